using System.Globalization;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Imaging;
using SkiaSharp;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// The tables and plot of <c>clrp eval randomization</c>: for each mode and similarity, one row per step and one column per
/// method (mean over scenes [95 % interval]); the random-logit test as one row per method; the cascading curves of
/// Spearman's ρ of |R| as a PNG, step 0 being the trained model (ρ = 1).
/// </summary>
internal static class RandomizationReport
{
    private static readonly (string Column, string Title)[] Metrics =
        [("spearman_abs", "Spearman ρ of abs(R)"), ("spearman_signed", "Spearman ρ of R"), ("ssim", "SSIM of abs(R)")];

    public static void Print(TextWriter o, EvalSettings settings, RandomizationSettings randomization, SceneSet set, IReadOnlyList<ParameterLayer> layers, IReadOnlyList<RandomizationStep> steps, ResultsFile results, TimeSpan elapsed)
    {
        string[] methods = [.. settings.Methods.Select(m => m.Name)];
        o.WriteLine($"randomization: {settings.ModelPath} on {set.Scenes.Count} scenes of '{set.Folder}' (class_a of each), {layers.Count} layers with parameters, seed {randomization.Seed}; rules {settings.Rules}");
        o.WriteLine("similarity of each method's map on the trained model to its map after randomisation; mean over scenes [95 % confidence interval]; 1 = unchanged, ~0 = unrelated");
        foreach (string mode in new[] { RandomizationStep.Cascading, RandomizationStep.Independent })
        {
            RandomizationStep[] modeSteps = [.. steps.Where(s => s.Mode == mode)];
            if (modeSteps.Length == 0)
            {
                continue;
            }

            foreach ((string column, string title) in Metrics)
            {
                o.WriteLine();
                o.WriteLine(mode == RandomizationStep.Cascading
                    ? $"**{mode}** (top-down: step k randomises the top k layers), {title}"
                    : $"**{mode}** (step k randomises the k-th layer from the top alone), {title}");
                o.WriteLine();
                o.WriteLine($"| step | layer | {string.Join(" | ", methods)} |");
                o.WriteLine($"|---|---|{string.Concat(methods.Select(_ => "---|"))}");
                foreach (RandomizationStep step in modeSteps)
                {
                    o.WriteLine($"| {step.Index} | {Printable.Of(step.Layer, 40)} | {string.Join(" | ", methods.Select(m => Interval(results, set, m, step, column).Format(2)))} |");
                }
            }
        }

        if (steps.FirstOrDefault(s => s.Mode == RandomizationStep.RandomLogit) is { } logit)
        {
            o.WriteLine();
            o.WriteLine("**random logit** (the map of class_a against the map of a random class in neither object, same model)");
            o.WriteLine();
            o.WriteLine($"| method | {string.Join(" | ", Metrics.Select(m => m.Title))} |");
            o.WriteLine($"|---|{string.Concat(Metrics.Select(_ => "---|"))}");
            foreach (string m in methods)
            {
                o.WriteLine($"| {m} | {string.Join(" | ", Metrics.Select(metric => Interval(results, set, m, logit, metric.Column).Format(2)))} |");
            }
        }

        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time: {elapsed.TotalSeconds:0.0} s for the rows computed in this run ({Environment.ProcessorCount} logical cores)"));
        RandomizationStep[] cascade = [.. steps.Where(s => s.Mode == RandomizationStep.Cascading)];
        if (randomization.PlotPath is { } plot && cascade.Length > 0)
        {
            var series = methods.Select(m => new PlotSeries(m, [.. Enumerable.Range(0, cascade.Length + 1).Select(k => (double)k)],
                [1.0, .. cascade.Select(step => Interval(results, set, m, step, "spearman_abs").Mean)])).ToList();
            var options = new LinePlotOptions
            {
                Title = $"Cascading randomisation: {Path.GetFileName(settings.ModelPath)}, {set.Scenes.Count} scenes",
                XLabel = "layers randomised, from the logits down",
                YLabel = "Spearman ρ of abs(R), trained vs randomised",
            };
            using SKBitmap bitmap = LinePlot.Render(series, options);
            HeatmapRenderer.SavePng(OutputPaths.Prepare(plot), bitmap);
            o.WriteLine($"wrote: {plot} (PNG {bitmap.Width}×{bitmap.Height})");
        }
    }

    /// <summary>Mean and interval of one similarity over the scenes that have the row; NaN values (a constant map) are left out.</summary>
    private static MeanInterval Interval(ResultsFile results, SceneSet set, string method, RandomizationStep step, string column)
    {
        int index = Array.IndexOf(RandomizationRunner.Columns, column);
        List<double> values = [.. set.Scenes
            .Select(s => results.TryGet(RandomizationRunner.Case(method, step), s.Index, out string[] row) ? double.Parse(row[index], CultureInfo.InvariantCulture) : double.NaN)
            .Where(double.IsFinite)];
        return MeanInterval.Of(values);
    }
}
