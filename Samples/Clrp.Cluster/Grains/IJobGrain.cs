namespace Clrp.Cluster.Grains;

/// <summary>
/// One batch job (key: the job name). Its progress — which shards are done, which inputs are poisoned — is grain state
/// in durable storage (PostgreSQL via ADO.NET), so that a restarted cluster resumes it. Leases live in memory: when the
/// grain moves to another silo, unfinished shards are simply leased again (outputs are content-addressed, so a shard
/// that runs twice writes the same bytes twice).
/// </summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Starts the job, or accepts the same job again; refuses a different job under this name.</summary>
    Task<SubmitResult> Submit(JobSpec spec);

    Task<JobStatus> GetStatus();

    /// <summary>The next piece of work for <paramref name="worker"/>, or null when there is none now.</summary>
    Task<WorkLease?> Lease(WorkerId worker);

    /// <summary>
    /// Extends the lease of <paramref name="shard"/> and records that entries [<paramref name="start"/>, <paramref name="end"/>)
    /// are being explained now. False when the lease is no longer this worker's: it should stop.
    /// </summary>
    Task<bool> Renew(int shard, WorkerId worker, int start, int end);

    /// <summary>The shard is done (idempotent: a late second completion is ignored).</summary>
    Task Complete(int shard, WorkerId worker, ShardReport report);

    /// <summary>Explaining [<paramref name="start"/>, <paramref name="end"/>) failed unexpectedly (not a bad input): release and strike.</summary>
    Task Fail(int shard, WorkerId worker, int start, int end, string error);

    /// <summary>The job cannot run on this worker at all (manifest changed, model unreadable); three of these give it up.</summary>
    Task FailJob(int shard, WorkerId worker, string error);

    /// <summary>The final step wrote results.csv.</summary>
    Task Finalized(WorkerId worker, FinalReport report);
}

/// <summary>A worker loop on a silo.</summary>
[GenerateSerializer, Immutable]
public sealed record WorkerId([property: Id(0)] SiloAddress Silo, [property: Id(1)] int Number)
{
    public override string ToString() => $"{Silo}/w{Number}";
}
