using System.Diagnostics;
using System.Globalization;
using Clrp.Batch;
using Clrp.Cluster.Grains;
using Clrp.Cluster.Work;

namespace Clrp.Cluster.Commands;

/// <summary>
/// The client's side of a job: check the settings, resolve the inputs once (their count and fingerprint go into the
/// spec, so that every worker can check it reads the same list), bind the output folder to the job exactly as batch
/// mode does (job.json), submit, and wait with progress.
/// </summary>
public static class JobSubmission
{
    /// <summary>Builds the spec of a job; writes DIR/job.json (or refuses a folder of another job).</summary>
    /// <exception cref="Onnx.ClrpException">Bad settings, inputs, model or output folder.</exception>
    public static JobSpec Prepare(BatchSettings settings, string inputs, string outDir, int shardSize)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (shardSize < 1)
        {
            throw new Onnx.InvalidOptionsException($"--shard-size must be ≥ 1, got {shardSize}.");
        }

        settings = settings with { ModelPath = Path.GetFullPath(settings.ModelPath) };
        settings.Validate();
        var layout = new OutputLayout(outDir);
        InputManifest manifest = InputManifest.Resolve(inputs, layout.Root);
        layout.Claim(settings.IdentityJson(BatchJob.ModelHash(settings.ModelPath)));
        return new JobSpec
        {
            SettingsJson = settings.ToJson(),
            Inputs = Path.GetFullPath(inputs),
            OutDir = layout.Root,
            ShardSize = shardSize,
            Total = manifest.Entries.Count,
            ManifestFingerprint = JobResources.Fingerprint(manifest),
        };
    }

    /// <summary>Submits <paramref name="spec"/> as job <paramref name="jobId"/>; throws when the name is taken by another job.</summary>
    public static async Task<JobStatus> SubmitAsync(IGrainFactory grains, string jobId, JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(grains);
        SubmitResult result = await grains.GetGrain<IJobGrain>(jobId).Submit(spec);
        return result.Error is null ? result.Status : throw new Onnx.InvalidOptionsException(result.Error);
    }

    /// <summary>Polls the job until it is completed; calls <paramref name="onStatus"/> with each status.</summary>
    public static async Task<JobStatus> WaitAsync(IGrainFactory grains, string jobId, TimeSpan poll, Action<JobStatus>? onStatus, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(grains);
        IJobGrain job = grains.GetGrain<IJobGrain>(jobId);
        while (true)
        {
            JobStatus status;
            try
            {
                status = await job.GetStatus();
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                // A silo is leaving or the grain moving: ask again.
                await Task.Delay(poll, cancel);
                continue;
            }

            onStatus?.Invoke(status);
            if (status.IsOver || status.State == "unknown")
            {
                return status;
            }

            await Task.Delay(poll, cancel);
        }
    }

    /// <summary>One line about <paramref name="s"/>, with a rate and ETA from <paramref name="clock"/> and the shards done when it started.</summary>
    public static string Describe(JobStatus s, Stopwatch? clock = null, int shardsAtStart = 0)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"job {s.JobId}: {s.State}, shards {s.ShardsDone}/{s.Shards}, inputs {s.Total} (explained {s.Explained}, already done {s.Reused}, errors {s.Failed}, poisoned {s.Poisoned.Count}), shards retried {s.RetriedShards}");
        if (s.Error is not null)
        {
            line += ": " + s.Error;
        }

        if (clock is not null && s.ShardsDone > shardsAtStart && !s.IsOver)
        {
            double perShard = clock.Elapsed.TotalSeconds / (s.ShardsDone - shardsAtStart);
            double inputsPerSecond = (s.ShardsDone - shardsAtStart) * (double)s.Total / Math.Max(1, s.Shards) / clock.Elapsed.TotalSeconds;
            TimeSpan eta = TimeSpan.FromSeconds(perShard * (s.Shards - s.ShardsDone));
            line += string.Create(CultureInfo.InvariantCulture, $", {inputsPerSecond:0.0} inputs/s, ETA {(int)eta.TotalMinutes}:{eta.Seconds:00}");
        }

        return line;
    }
}
