using System.Diagnostics;
using Clrp.Onnx.Execution;

namespace Clrp.Batch;

/// <summary>How a single-machine run went.</summary>
/// <param name="Total">Inputs in the manifest.</param>
/// <param name="Explained">Inputs explained by this run.</param>
/// <param name="Reused">Inputs already finished (an earlier run, or a duplicate of another input's content).</param>
/// <param name="Failed">Inputs that became error rows.</param>
/// <param name="ResultsPath">The results.csv written.</param>
/// <param name="Elapsed">Wall time of the run.</param>
public sealed record BatchSummary(int Total, int Explained, int Reused, int Failed, string ResultsPath, TimeSpan Elapsed);

/// <summary>Progress of a batch run, reported after every mini-batch.</summary>
public interface IBatchProgress
{
    /// <summary>The run starts with <paramref name="total"/> inputs.</summary>
    void Start(int total);

    /// <summary><paramref name="explained"/> inputs were computed (or failed) and <paramref name="reused"/> were found finished.</summary>
    void Advance(int explained, int reused);

    /// <summary>The run is over.</summary>
    void Finish();
}

/// <summary>
/// A whole batch job on one machine (<c>clrp explain --inputs … --out-dir …</c>): resolve the manifest, bind the output
/// folder to the job, explain mini-batch after mini-batch through one explainer, and write results.csv. Stopping it
/// loses nothing finished: a rerun reuses every finished item (checked by content hash) and redoes torn ones.
/// </summary>
public static class BatchJob
{
    /// <summary>Runs the job.</summary>
    /// <param name="settings">What to compute.</param>
    /// <param name="inputs">--inputs: a folder, a list or a CSV manifest.</param>
    /// <param name="outDir">--out-dir.</param>
    /// <param name="batchSize">Inputs per forward pass and backward walk.</param>
    /// <param name="device">Where ONNX Runtime runs.</param>
    /// <param name="log">Library notes (CUDA fallback, rule warnings), or null.</param>
    /// <param name="progress">Progress sink, or null.</param>
    /// <param name="cacheDirectory">Where compiled explainer graphs are kept between runs (<c>ExplainerOptions.CacheDirectory</c>), or null.</param>
    /// <exception cref="Onnx.ClrpException">Bad options, manifest or model: nothing could be explained.</exception>
    public static BatchSummary Run(BatchSettings settings, string inputs, string outDir, int batchSize, Device device, Action<string>? log, IBatchProgress? progress, string? cacheDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var clock = Stopwatch.StartNew();
        settings.Validate();
        var layout = new OutputLayout(outDir);
        InputManifest manifest = InputManifest.Resolve(inputs, layout.Root);
        layout.Claim(settings.IdentityJson(ModelHash(settings.ModelPath)));

        using var explainers = new BatchExplainers(settings, device, log, cacheDirectory);
        var processor = new BatchProcessor(settings, layout, explainers);
        var outcomes = new List<ItemOutcome>(manifest.Entries.Count);
        progress?.Start(manifest.Entries.Count);
        foreach (ManifestEntry[] chunk in manifest.Entries.Chunk(batchSize))
        {
            IReadOnlyList<ItemOutcome> done = processor.Process(chunk);
            outcomes.AddRange(done);
            int reused = done.Count(o => o.Reused);
            progress?.Advance(done.Count - reused, reused);
        }

        ResultsTable.Write(layout.ResultsPath, outcomes);
        progress?.Finish();
        int failed = outcomes.Count(o => o.Record is null);
        int reusedTotal = outcomes.Count(o => o.Reused);
        return new BatchSummary(outcomes.Count, outcomes.Count - failed - reusedTotal, reusedTotal, failed, layout.ResultsPath, clock.Elapsed);
    }

    /// <summary>SHA-256 of the model file; a missing model is a <see cref="Onnx.ModelLoadException"/> naming it.</summary>
    public static string ModelHash(string modelPath)
    {
        try
        {
            return ContentHash.OfFile(modelPath);
        }
        catch (IOException e)
        {
            throw new Onnx.ModelLoadException($"cannot read model '{modelPath}': {(File.Exists(modelPath) ? e.Message : "the file does not exist")}.");
        }
    }
}
