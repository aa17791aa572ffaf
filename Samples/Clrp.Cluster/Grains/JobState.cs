namespace Clrp.Cluster.Grains;

/// <summary>The durable part of a job (grain state "clrp-jobs"). Version 1.</summary>
[GenerateSerializer]
public sealed class JobState
{
    [Id(0)] public JobSpec? Spec { get; set; }

    /// <summary>Per shard: done.</summary>
    [Id(1)] public bool[] ShardDone { get; set; } = [];

    /// <summary>Per shard: how often it was leased.</summary>
    [Id(2)] public int[] Attempts { get; set; } = [];

    /// <summary>Manifest index → how often it was being explained when a lease was lost or failed.</summary>
    [Id(3)] public Dictionary<int, int> Strikes { get; set; } = [];

    /// <summary>Manifest index → why it is skipped.</summary>
    [Id(4)] public Dictionary<int, string> Poisoned { get; set; } = [];

    [Id(5)] public int Explained { get; set; }

    [Id(6)] public int Reused { get; set; }

    [Id(7)] public int Failed { get; set; }

    [Id(8)] public int LostLeases { get; set; }

    [Id(9)] public FinalReport? Final { get; set; }

    /// <summary>Failures of the whole job on a worker (its manifest or model could not be read there).</summary>
    [Id(10)] public int JobFailures { get; set; }

    /// <summary>Why the job was given up, after <see cref="LeaseBook.JobFailuresToAbort"/> job failures; null while it runs.</summary>
    [Id(11)] public string? Aborted { get; set; }
}
