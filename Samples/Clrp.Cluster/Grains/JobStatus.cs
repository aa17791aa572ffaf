namespace Clrp.Cluster.Grains;

/// <summary>Where a job stands, for <c>clrp-cluster status</c> and for clients that wait.</summary>
[GenerateSerializer, Immutable]
public sealed class JobStatus
{
    [Id(0)] public required string JobId { get; init; }

    /// <summary>"unknown" (never submitted), "running", "finalizing" (writing results.csv), "completed" or "failed" (see <see cref="Error"/>).</summary>
    [Id(1)] public required string State { get; init; }

    [Id(2)] public int Total { get; init; }

    [Id(3)] public int Shards { get; init; }

    [Id(4)] public int ShardsDone { get; init; }

    /// <summary>Inputs explained by workers (a shard re-run after a lost lease may count some twice).</summary>
    [Id(5)] public int Explained { get; init; }

    /// <summary>Inputs found finished (an earlier run, a duplicate).</summary>
    [Id(6)] public int Reused { get; init; }

    /// <summary>Inputs that became error rows in shards.</summary>
    [Id(7)] public int Failed { get; init; }

    /// <summary>Poisoned inputs: manifest index → why.</summary>
    [Id(8)] public Dictionary<int, string> Poisoned { get; init; } = [];

    /// <summary>Shard leases lost (silo died or hung) or failed so far.</summary>
    [Id(9)] public int LostLeases { get; init; }

    /// <summary>results.csv, once the job is completed.</summary>
    [Id(10)] public string? ResultsPath { get; init; }

    /// <summary>Rows of results.csv with status ok / error, once completed.</summary>
    [Id(11)] public int ResultsOk { get; init; }

    [Id(12)] public int ResultsFailed { get; init; }

    /// <summary>Shards leased more than once (a lost or failed lease, or leases forgotten when the job grain moved to another silo).</summary>
    [Id(13)] public int RetriedShards { get; init; }

    /// <summary>Why a failed job was given up.</summary>
    [Id(14)] public string? Error { get; init; }

    /// <summary>True when the job will make no more progress: completed or failed.</summary>
    public bool IsOver => State is "completed" or "failed";

    public bool IsCompleted => State == "completed";
}

/// <summary>The answer to a submission.</summary>
[GenerateSerializer, Immutable]
public sealed class SubmitResult
{
    /// <summary>Null when accepted (new, or the same job again); otherwise why not.</summary>
    [Id(0)] public string? Error { get; init; }

    [Id(1)] public required JobStatus Status { get; init; }
}
