using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Clrp.Cluster.Grains;

/// <summary>Options of the job grains.</summary>
public sealed class JobOptions
{
    /// <summary>How long a lease lasts without renewal (workers renew between mini-batches).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>The grain behind <see cref="IJobGrain"/>: <see cref="LeaseBook"/>'s rules over durable <see cref="JobState"/>.</summary>
public sealed class JobGrain : Grain, IJobGrain
{
    /// <summary>The storage provider name of job and directory state.</summary>
    public const string Storage = "clrp-jobs";

    private readonly IPersistentState<JobState> _state;
    private readonly IClusterMembershipService _membership;
    private readonly TimeSpan _leaseDuration;
    private LeaseBook? _book;

    public JobGrain([PersistentState("job", Storage)] IPersistentState<JobState> state, IClusterMembershipService membership, IOptions<JobOptions> options)
    {
        _state = state;
        _membership = membership;
        _leaseDuration = options.Value.LeaseDuration;
    }

    private LeaseBook Book => _book ??= new LeaseBook(this.GetPrimaryKeyString(), _state.State, _leaseDuration);

    public async Task<SubmitResult> Submit(JobSpec spec)
    {
        if (_state.State.Spec is { } existing)
        {
            return existing.SameJobAs(spec)
                ? new SubmitResult { Status = Status() }
                : new SubmitResult { Error = $"job '{this.GetPrimaryKeyString()}' exists with other settings, inputs or output folder; choose another --job name.", Status = Status() };
        }

        _state.State.Spec = spec;
        _state.State.ShardDone = new bool[spec.ShardCount];
        _state.State.Attempts = new int[spec.ShardCount];
        await _state.WriteStateAsync();
        await GrainFactory.GetGrain<IJobDirectoryGrain>(0).Register(this.GetPrimaryKeyString());
        return new SubmitResult { Status = Status() };
    }

    public Task<JobStatus> GetStatus() => Task.FromResult(Status());

    public async Task<WorkLease?> Lease(WorkerId worker)
    {
        if (_state.State.Spec is null)
        {
            return null;
        }

        ClusterMembershipSnapshot members = _membership.CurrentSnapshot;
        WorkLease? lease = Book.Next(worker, DateTime.UtcNow, silo => members.GetSiloStatus(silo) == SiloStatus.Dead);
        await SaveIfDirty();
        return lease;
    }

    public Task<bool> Renew(int shard, WorkerId worker, int start, int end) =>
        Task.FromResult(_state.State.Spec is not null && Book.Renew(shard, worker, start, end, DateTime.UtcNow));

    public async Task Complete(int shard, WorkerId worker, ShardReport report)
    {
        if (_state.State.Spec is not null)
        {
            Book.Complete(shard, worker, report);
            await SaveIfDirty();
        }
    }

    public async Task Fail(int shard, WorkerId worker, int start, int end, string error)
    {
        if (_state.State.Spec is not null)
        {
            Book.Fail(shard, worker, start, end, error);
            await SaveIfDirty();
        }
    }

    public async Task FailJob(int shard, WorkerId worker, string error)
    {
        if (_state.State.Spec is not null && _state.State.Aborted is null)
        {
            Book.FailJob(shard, worker, error);
            await SaveIfDirty();
            if (_state.State.Aborted is not null)
            {
                await GrainFactory.GetGrain<IJobDirectoryGrain>(0).Remove(this.GetPrimaryKeyString());
            }
        }
    }

    public async Task Finalized(WorkerId worker, FinalReport report)
    {
        if (_state.State.Spec is not null && _state.State.Final is null)
        {
            Book.Finalized(worker, report);
            await SaveIfDirty();
            await GrainFactory.GetGrain<IJobDirectoryGrain>(0).Remove(this.GetPrimaryKeyString());
        }
    }

    private async Task SaveIfDirty()
    {
        if (Book.Dirty)
        {
            await _state.WriteStateAsync();
            Book.Dirty = false;
        }
    }

    private JobStatus Status()
    {
        JobState s = _state.State;
        int done = s.ShardDone.Count(d => d);
        string state = s.Spec is null ? "unknown" : s.Final is not null ? "completed" : s.Aborted is not null ? "failed"
            : done == s.ShardDone.Length ? "finalizing" : "running";
        return new JobStatus
        {
            JobId = this.GetPrimaryKeyString(),
            State = state,
            Total = s.Spec?.Total ?? 0,
            Shards = s.ShardDone.Length,
            ShardsDone = done,
            Explained = s.Explained,
            Reused = s.Reused,
            Failed = s.Failed,
            Poisoned = new Dictionary<int, string>(s.Poisoned),
            LostLeases = s.LostLeases,
            ResultsPath = s.Final?.ResultsPath,
            ResultsOk = s.Final?.Ok ?? 0,
            ResultsFailed = s.Final?.Failed ?? 0,
            RetriedShards = s.Attempts.Count(a => a > 1),
            Error = s.Aborted,
        };
    }
}
