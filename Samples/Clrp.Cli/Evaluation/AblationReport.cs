using System.Globalization;
using Clrp.Onnx.Imaging;
using SkiaSharp;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// The table and plot of <c>clrp eval ablation</c>. Per method: AOPC of the explained class (higher = the map
/// found the pixels that class rests on), AOPC of the other object's class under the same removals (lower = the
/// map left the other object alone), their difference, and the mean drop at a few steps; the mean curves as a
/// PNG line plot with the random order dashed.
/// </summary>
internal static class AblationReport
{
    public static void Print(TextWriter o, EvalSettings settings, AblationSettings ablation, SceneSet set, ResultsFile results, IReadOnlyList<string> methods, TimeSpan elapsed)
    {
        string[] columns = AblationRunner.Columns(ablation.Steps);
        int[] shownSteps = [.. new[] { 1, 5, 10, 20, ablation.Steps }.Where(k => k <= ablation.Steps).Distinct()];
        o.WriteLine($"ablation: {settings.ModelPath} on {set.Scenes.Count} scenes of '{set.Folder}', {ablation.Steps} steps of 1 % of the pixels, most relevant first, replaced by the dataset mean; rules {settings.Rules}");
        o.WriteLine("AOPC = mean logit drop over steps 0..L; 'other' = the other object's logit under the same removals; mean over scenes [95 % confidence interval]");
        o.WriteLine();
        o.WriteLine($"| method | AOPC explained class | AOPC other class | explained − other | {string.Join(" | ", shownSteps.Select(k => $"drop at {k} %"))} |");
        o.WriteLine($"|---|---|---|---|{string.Concat(shownSteps.Select(_ => "---|"))}");
        var series = new List<PlotSeries>();
        foreach (string method in methods)
        {
            List<string[]> rows = [.. set.Scenes.Select(s => results.TryGet(method, s.Index, out string[] r) ? r : null).OfType<string[]>()];
            double Value(string[] row, string column) => double.Parse(row[Array.IndexOf(columns, column)], CultureInfo.InvariantCulture);
            double PerScene(string[] row, string prefix) => (Value(row, prefix + "a") + Value(row, prefix + "b")) / 2;

            MeanInterval own = MeanInterval.Of([.. rows.Select(r => PerScene(r, "aopc_"))]);
            MeanInterval other = MeanInterval.Of([.. rows.Select(r => PerScene(r, "aopc_other_"))]);
            MeanInterval difference = MeanInterval.Of([.. rows.Select(r => PerScene(r, "aopc_") - PerScene(r, "aopc_other_"))]);
            double[] curve = [0, .. Enumerable.Range(1, ablation.Steps).Select(k => rows.Count == 0 ? double.NaN : rows.Average(r => (Value(r, $"drop_a_{k:00}") + Value(r, $"drop_b_{k:00}")) / 2))];
            string drops = string.Join(" | ", shownSteps.Select(k => curve[k].ToString("0.000", CultureInfo.InvariantCulture)));
            string name = method == AblationRunner.RandomName ? "random order (baseline)" : method;
            o.WriteLine($"| {name} | {own.Format()} | {other.Format()} | {difference.Format()} | {drops} |");
            series.Add(new PlotSeries(name, [.. Enumerable.Range(0, ablation.Steps + 1).Select(k => (double)k)], curve)
            {
                Dashed = method == AblationRunner.RandomName,
                Color = method == AblationRunner.RandomName ? SKColors.Gray : null,
            });
        }

        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time: {elapsed.TotalSeconds:0.0} s for the rows computed in this run ({Environment.ProcessorCount} logical cores)"));
        if (ablation.PlotPath is { } plot)
        {
            var options = new LinePlotOptions
            {
                Title = $"Ablation: {Path.GetFileName(settings.ModelPath)}, {set.Scenes.Count} scenes",
                XLabel = "pixels removed, most relevant first (%)",
                YLabel = "mean drop of the explained logit",
            };
            using SKBitmap bitmap = LinePlot.Render(series, options);
            HeatmapRenderer.SavePng(OutputPaths.Prepare(plot), bitmap);
            o.WriteLine($"wrote: {plot} (PNG {bitmap.Width}×{bitmap.Height})");
        }
    }
}
