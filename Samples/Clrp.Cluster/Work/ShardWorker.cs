using Clrp.Cluster.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Clrp.Cluster.Work;

/// <summary>
/// The silo's workers: each loop asks the active jobs for a lease, carries it out and asks again; when there is no work
/// it waits <see cref="WorkerOptions.IdlePoll"/>. Grain calls that fail (a silo just died, the cluster is starting) are
/// retried after a pause: nothing is lost, because an unfinished lease is simply leased again.
/// </summary>
internal sealed class ShardWorker(IGrainFactory grains, ILocalSiloDetails silo, JobResources resources, IOptions<WorkerOptions> options, ILogger<ShardWorker> logger)
    : BackgroundService
{
    private readonly WorkerOptions _options = options.Value;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, _options.Workers)).Select(n => Loop(new WorkerId(silo.SiloAddress, n), stoppingToken)));

    private async Task Loop(WorkerId worker, CancellationToken stop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!await WorkOnce(worker, stop))
                {
                    await Task.Delay(_options.IdlePoll, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("{Worker}: {Error}; retrying", worker, e.Message);
                try
                {
                    await Task.Delay(_options.IdlePoll * 2, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Finds one lease and runs it; false when no job had work.</summary>
    private async Task<bool> WorkOnce(WorkerId worker, CancellationToken stop)
    {
        foreach (string jobId in await grains.GetGrain<IJobDirectoryGrain>(0).Active())
        {
            IJobGrain job = grains.GetGrain<IJobGrain>(jobId);
            if (await job.Lease(worker) is not { } lease)
            {
                continue;
            }

            JobContext context;
            try
            {
                context = resources.For(lease.Spec);
            }
            catch (Onnx.ClrpException e)
            {
                // The job cannot run here (inputs changed, model unreadable): give the lease back as failed.
                logger.LogError("{Worker}: job {Job}: {Error}", worker, jobId, e.Message);
                await job.FailJob(lease.Shard, worker, e.Message);
                return false;
            }

            var runner = new LeaseRunner(job, worker, _options, resources);
            bool kept = await runner.Run(lease, context, stop);
            logger.LogDebug("{Worker}: job {Job} shard {Shard} {Outcome}", worker, jobId, lease.Shard, kept ? "done" : "lost");
            return true;
        }

        return false;
    }
}
