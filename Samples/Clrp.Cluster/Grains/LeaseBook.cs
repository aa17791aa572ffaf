namespace Clrp.Cluster.Grains;

/// <summary>
/// The scheduling rules of a job, without Orleans (so they are tested directly): shards are leased in order to
/// whichever worker asks; a lease expires unless renewed; a lost or failed lease strikes the inputs it was explaining
/// and makes the shard run one input at a time afterwards; an input struck <see cref="StrikesToPoison"/> times while
/// it was the only one in flight is poisoned (skipped, reported). When every shard is done, one final step is leased.
/// </summary>
internal sealed class LeaseBook
{
    /// <summary>Lost leases an input may be in flight for before it is skipped.</summary>
    public const int StrikesToPoison = 2;

    /// <summary>Job-level failures (a worker cannot read the manifest or the model) before the job is given up.</summary>
    public const int JobFailuresToAbort = 3;

    private readonly JobState _state;
    private readonly string _jobId;
    private readonly TimeSpan _duration;
    private readonly Dictionary<int, Held> _held = [];

    public LeaseBook(string jobId, JobState state, TimeSpan duration)
    {
        _jobId = jobId;
        _state = state;
        _duration = duration;
    }

    /// <summary>True when <see cref="JobState"/> changed in a way that must be written before answering.</summary>
    public bool Dirty { get; set; }

    /// <summary>The next lease for <paramref name="worker"/> at <paramref name="now"/>, or null.</summary>
    /// <param name="worker">Who asks.</param>
    /// <param name="now">The time.</param>
    /// <param name="isDead">True for a silo that the cluster declared dead (its leases are lost at once).</param>
    public WorkLease? Next(WorkerId worker, DateTime now, Func<SiloAddress, bool> isDead)
    {
        JobSpec spec = _state.Spec ?? throw new InvalidOperationException("the job was not submitted.");
        if (_state.Final is not null || _state.Aborted is not null)
        {
            return null;
        }

        ReclaimLost(now, isDead);
        for (int shard = 0; shard < _state.ShardDone.Length; shard++)
        {
            if (!_state.ShardDone[shard] && !_held.ContainsKey(shard))
            {
                _state.Attempts[shard]++;
                Dirty = true;
                _held[shard] = new Held(worker, now + _duration, null);
                int start = shard * spec.ShardSize;
                return Lease(shard, start, Math.Min(spec.Total, start + spec.ShardSize), isolate: _state.Attempts[shard] > 1);
            }
        }

        if (_held.Count == 0)
        {
            _held[WorkLease.FinalStep] = new Held(worker, now + _duration, null);
            return Lease(WorkLease.FinalStep, 0, spec.Total, isolate: false);
        }

        return null;
    }

    /// <summary>Extends <paramref name="worker"/>'s lease of <paramref name="shard"/>; false when it holds none.</summary>
    public bool Renew(int shard, WorkerId worker, int start, int end, DateTime now)
    {
        if (!_held.TryGetValue(shard, out Held? held) || held.Worker != worker || now > held.Expires)
        {
            return false;
        }

        _held[shard] = new Held(worker, now + _duration, (start, end));
        return true;
    }

    /// <summary>Marks <paramref name="shard"/> done (whoever finished it) and adds its counts once.</summary>
    public void Complete(int shard, WorkerId worker, ShardReport report)
    {
        if (shard < 0 || shard >= _state.ShardDone.Length)
        {
            return;
        }

        // Whoever finishes first wins; a worker still on the shard learns it from its next renewal and stops.
        _held.Remove(shard);
        if (!_state.ShardDone[shard])
        {
            _state.ShardDone[shard] = true;
            _state.Explained += report.Explained;
            _state.Reused += report.Reused;
            _state.Failed += report.Failed;
            Dirty = true;
        }
    }

    /// <summary>Releases a failed lease and strikes the inputs that were in flight.</summary>
    public void Fail(int shard, WorkerId worker, int start, int end, string error)
    {
        if (_held.TryGetValue(shard, out Held? held) && held.Worker == worker)
        {
            _held.Remove(shard);
            Strike(start, end, $"failed on {worker}: {error}");
        }
    }

    /// <summary>
    /// The job cannot run on <paramref name="worker"/> (its inputs changed since submission, the model is unreadable):
    /// releases the lease; after <see cref="JobFailuresToAbort"/> such failures the job is given up with that reason.
    /// </summary>
    public void FailJob(int shard, WorkerId worker, string error)
    {
        if (_held.TryGetValue(shard, out Held? held) && held.Worker == worker)
        {
            _held.Remove(shard);
        }

        if (++_state.JobFailures >= JobFailuresToAbort)
        {
            _state.Aborted = $"given up after {_state.JobFailures} workers could not run it (last: {worker}: {error})";
        }

        Dirty = true;
    }

    /// <summary>Records the final step's report: the job is completed.</summary>
    public void Finalized(WorkerId worker, FinalReport report)
    {
        _held.Remove(WorkLease.FinalStep);
        _state.Final = report;
        Dirty = true;
    }

    /// <summary>Drops expired leases and those of dead silos, striking what they were explaining.</summary>
    private void ReclaimLost(DateTime now, Func<SiloAddress, bool> isDead)
    {
        foreach ((int shard, Held held) in _held.ToList())
        {
            bool dead = isDead(held.Worker.Silo);
            if (dead || now > held.Expires)
            {
                _held.Remove(shard);
                if (shard != WorkLease.FinalStep && held.InFlight is { } range)
                {
                    Strike(range.Start, range.End, dead ? $"silo {held.Worker.Silo} died" : $"{held.Worker} stopped answering (no renewal within {_duration.TotalSeconds:0} s)");
                }
            }
        }
    }

    private void Strike(int start, int end, string why)
    {
        _state.LostLeases++;
        Dirty = true;
        for (int i = start; i < end; i++)
        {
            int strikes = _state.Strikes[i] = _state.Strikes.GetValueOrDefault(i) + 1;
            if (strikes >= StrikesToPoison && end - start == 1)
            {
                _state.Poisoned[i] = $"poisoned: explaining it was cut short {strikes} times (last: {why}); skipped";
            }
        }
    }

    private WorkLease Lease(int shard, int start, int end, bool isolate) => new()
    {
        JobId = _jobId,
        Shard = shard,
        Start = start,
        End = end,
        Isolate = isolate,
        Poisoned = new Dictionary<int, string>(_state.Poisoned),
        Spec = _state.Spec!,
        Duration = _duration,
    };

    private sealed record Held(WorkerId Worker, DateTime Expires, (int Start, int End)? InFlight);
}
