namespace Clrp.Cluster.Grains;

/// <summary>
/// A piece of work handed to one worker for a limited time: a shard (manifest entries [Start, End)) or, once every shard
/// is done, the final step that writes results.csv. The worker renews it between mini-batches; a lease that is not
/// renewed in time (the silo died or hangs) is given to another worker.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class WorkLease
{
    /// <summary>The job's grain key.</summary>
    [Id(0)] public required string JobId { get; init; }

    /// <summary>The shard number, or <see cref="FinalStep"/>.</summary>
    [Id(1)] public required int Shard { get; init; }

    /// <summary>First manifest index of the shard.</summary>
    [Id(2)] public required int Start { get; init; }

    /// <summary>One past the last manifest index.</summary>
    [Id(3)] public required int End { get; init; }

    /// <summary>
    /// True when an earlier lease of this shard was lost or failed: the worker then explains one input at a time and
    /// reports each before reading it, so that an input that kills or hangs workers can be named and skipped.
    /// </summary>
    [Id(4)] public required bool Isolate { get; init; }

    /// <summary>Poisoned inputs (manifest index → why), skipped by shards and reported by the final step.</summary>
    [Id(5)] public required Dictionary<int, string> Poisoned { get; init; }

    /// <summary>The job.</summary>
    [Id(6)] public required JobSpec Spec { get; init; }

    /// <summary>How long the lease lasts without renewal.</summary>
    [Id(7)] public required TimeSpan Duration { get; init; }

    /// <summary>The <see cref="Shard"/> value of the final step.</summary>
    public const int FinalStep = -1;

    public bool IsFinalStep => Shard == FinalStep;
}

/// <summary>What a worker did with a shard (counts for the job's status).</summary>
[GenerateSerializer, Immutable]
public sealed class ShardReport
{
    [Id(0)] public int Explained { get; init; }

    [Id(1)] public int Reused { get; init; }

    [Id(2)] public int Failed { get; init; }
}

/// <summary>What the final step found, in results.csv.</summary>
[GenerateSerializer, Immutable]
public sealed class FinalReport
{
    [Id(0)] public int Ok { get; init; }

    [Id(1)] public int Failed { get; init; }

    [Id(2)] public required string ResultsPath { get; init; }
}
