using System.Diagnostics;
using Clrp.Onnx.Explaining;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// The outer loop both evaluations share: scenes in batches, every method on each batch (so that a stopped run
/// has all methods for the same first scenes), skipping the (method, scene) rows the results file already holds,
/// with progress on stderr. Explainers are loaded once, on first use, and disposed at the end.
/// </summary>
internal sealed class EvalLoop : IDisposable
{
    private readonly EvalSettings _settings;
    private readonly TextWriter _stderr;
    private readonly Dictionary<string, ClrpExplainer> _explainers = [];
    private readonly object _logGate = new();
    private readonly HashSet<string> _seen = [];

    public EvalLoop(EvalSettings settings, TextWriter stderr)
    {
        _settings = settings;
        _stderr = stderr;
    }

    /// <summary>The explainer of <paramref name="method"/>, loaded on first use.</summary>
    public ClrpExplainer Explainer(EvalMethod method)
    {
        if (!_explainers.TryGetValue(method.Name, out ClrpExplainer? explainer))
        {
            explainer = _settings.LoadExplainer(method, Log);
            _explainers[method.Name] = explainer;
        }

        return explainer;
    }

    /// <summary>
    /// Calls <paramref name="work"/>(method, scenes) for every batch and method with the scenes still missing from
    /// <paramref name="results"/>; <paramref name="work"/> appends their rows. Returns the wall time of the new work.
    /// </summary>
    /// <param name="set">The scenes.</param>
    /// <param name="results">Finished rows, skipped.</param>
    /// <param name="methods">Method names in column order (the "method" column).</param>
    /// <param name="label">What the progress counts, e.g. "pointing-game rows".</param>
    /// <param name="work">Computes and appends the rows of one method on some scenes.</param>
    public TimeSpan Run(SceneSet set, ResultsFile results, IReadOnlyList<string> methods, string label, Action<string, IReadOnlyList<Scene>> work)
    {
        int total = set.Scenes.Count * methods.Count;
        int done = set.Scenes.Sum(s => methods.Count(m => results.Has(m, s.Index)));
        if (done > 0)
        {
            CliErrors.Info(_stderr, $"resuming: {done} of {total} (method, scene) rows are already in '{_settings.OutPath}'.");
        }

        var progress = new ProgressReporter(_stderr, label, total);
        progress.Resume(done);
        var clock = Stopwatch.StartNew();
        for (int start = 0; start < set.Scenes.Count; start += _settings.Batch)
        {
            Scene[] batch = [.. set.Scenes.Skip(start).Take(_settings.Batch)];
            foreach (string method in methods)
            {
                Scene[] missing = [.. batch.Where(s => !results.Has(method, s.Index))];
                if (missing.Length > 0)
                {
                    work(method, missing);
                    progress.Advance(missing.Length);
                }
            }
        }

        progress.Finish();
        return clock.Elapsed;
    }

    public void Dispose()
    {
        foreach (ClrpExplainer explainer in _explainers.Values)
        {
            explainer.Dispose();
        }
    }

    /// <summary>Library notes (CUDA fallback, rule warnings), once each: seven explainers would repeat them.</summary>
    private void Log(string message)
    {
        lock (_logGate)
        {
            if (_seen.Add(message))
            {
                CliErrors.Info(_stderr, message);
            }
        }
    }

}
