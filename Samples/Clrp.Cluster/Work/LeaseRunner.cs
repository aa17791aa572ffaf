using Clrp.Batch;
using Clrp.Cluster.Grains;

namespace Clrp.Cluster.Work;

/// <summary>
/// Carries out one lease on a silo. A shard: its entries in mini-batches (one at a time for an isolated re-run), the
/// lease renewed before each with the entries in flight, poisoned entries skipped; the outputs are written by
/// <see cref="BatchProcessor"/> exactly as batch mode writes them. The final step: every entry again through the same
/// processor (finished items are found by content hash and reused, bad files give the same error rows), poisoned ones
/// as error rows, and results.csv — so that the cluster's folder equals a single-machine run byte for byte.
/// </summary>
internal sealed class LeaseRunner(IJobGrain job, WorkerId worker, WorkerOptions options, JobResources resources)
{
    /// <summary>Runs <paramref name="lease"/> in <paramref name="context"/>; returns false when the lease was lost on the way.</summary>
    public async Task<bool> Run(WorkLease lease, JobContext context, CancellationToken stop)
    {
        IReadOnlyList<ManifestEntry> entries = context.Manifest.Entries;
        int chunk = lease.Isolate ? 1 : options.BatchSize;
        var outcomes = new List<ItemOutcome>(lease.End - lease.Start);
        for (int start = lease.Start; start < lease.End; start += chunk)
        {
            stop.ThrowIfCancellationRequested();
            int end = Math.Min(lease.End, start + chunk);
            if (!await job.Renew(lease.Shard, worker, start, end))
            {
                return false;
            }

            ManifestEntry[] batch = [.. entries.Skip(start).Take(end - start).Where(e => !lease.Poisoned.ContainsKey(e.Index))];
            try
            {
                Action<ManifestEntry>? hook = options.BeforeInput is { } before ? e => before(e, stop) : null;
                // A dedicated thread: a mini-batch blocks for a while inside ONNX Runtime and the walk, and on a small
                // machine a blocked thread-pool thread starves the silo's own messaging.
                outcomes.AddRange(await Task.Factory.StartNew(
                    () =>
                    {
                        using IDisposable inUse = resources.Use();
                        return context.Processor.Process(batch, hook);
                    },
                    stop,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default));
            }
            catch (Exception e) when (e is not OperationCanceledException and not ObjectDisposedException)
            {
                // Not a bad input (those are outcomes): a bug, an out-of-memory, a crashed decoder. Strike and let go.
                await job.Fail(lease.Shard, worker, start, end, ItemOutcome.OneLine(e.Message));
                return false;
            }
        }

        if (lease.IsFinalStep)
        {
            Dictionary<int, ItemOutcome> byIndex = outcomes.ToDictionary(o => o.Entry.Index);
            List<ItemOutcome> rows = [.. entries.Select(e => lease.Poisoned.TryGetValue(e.Index, out string? why)
                ? ItemOutcome.Failed(e, TryHash(e), why)
                : byIndex[e.Index])];
            ResultsTable.Write(context.Layout.ResultsPath, rows);
            await job.Finalized(worker, new FinalReport { Ok = rows.Count(r => r.Record is not null), Failed = rows.Count(r => r.Record is null), ResultsPath = context.Layout.ResultsPath });
        }
        else
        {
            int reused = outcomes.Count(o => o.Reused), failed = outcomes.Count(o => o.Record is null);
            await job.Complete(lease.Shard, worker, new ShardReport { Explained = outcomes.Count - reused - failed, Reused = reused, Failed = failed });
        }

        return true;
    }

    private static string? TryHash(ManifestEntry entry)
    {
        try
        {
            return ContentHash.OfFile(entry.FullPath);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
