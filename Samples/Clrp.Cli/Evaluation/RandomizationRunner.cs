using System.Diagnostics;
using System.Globalization;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli.Evaluation;

/// <summary>The randomisation test's own options.</summary>
/// <param name="Modes">--modes: cascading, independent, random-logit.</param>
/// <param name="Seed">--seed of the random parameters and of the random classes.</param>
/// <param name="PlotPath">--plot, a PNG of the cascading curves, or null.</param>
internal sealed record RandomizationSettings(IReadOnlyList<string> Modes, int Seed, string? PlotPath);

/// <summary>
/// Runs <c>clrp eval randomization</c> (Adebayo et al. 2018): for every scene, each method's map of class_a on the trained
/// model is compared with its map on copies whose top layers (cascading), or one layer (independent), have random
/// parameters, and with its map of a random class in neither object (random logit). One results row per (method, step,
/// scene) with Spearman's ρ of |R| and of R, and SSIM. Steps run outermost, so each randomised model is written and loaded
/// once; the trained model's maps are computed once per method and scene.
/// </summary>
internal static class RandomizationRunner
{
    /// <summary>The results columns: case = method|step (the resume key), the explained and the compared class, the three similarities.</summary>
    public static readonly string[] Columns = ["case", "scene", "method", "step", "class", "compared_class", "spearman_abs", "spearman_signed", "ssim"];

    public static int Run(EvalSettings settings, RandomizationSettings randomization, TextWriter stdout, TextWriter stderr)
    {
        SceneSet set = SceneSetReader.Read(settings.DataDir, settings.Limit);
        IReadOnlyList<ParameterLayer> layers = ParameterRandomization.Layers(settings.ModelPath);
        IReadOnlyList<RandomizationStep> steps = RandomizationStep.For(layers, randomization.Modes);
        string parameters = string.Create(CultureInfo.InvariantCulture, $"seed {randomization.Seed} | layers {string.Join(';', layers.Select(l => l.Node))}");
        using ResultsFile results = ResultsFile.Open(settings.OutPath is null ? null : OutputPaths.Prepare(settings.OutPath), settings.Identity("randomization", parameters), Columns);
        int total = steps.Count * settings.Methods.Count * set.Scenes.Count;
        int done = steps.Sum(step => settings.Methods.Sum(m => set.Scenes.Count(s => results.Has(Case(m.Name, step), s.Index))));
        if (done > 0)
        {
            CliErrors.Info(stderr, $"resuming: {done} of {total} (method, step, scene) rows are already in '{settings.OutPath}'.");
        }

        var progress = new ProgressReporter(stderr, "randomization rows", total);
        progress.Resume(done);
        var clock = Stopwatch.StartNew();
        string temp = Path.Combine(Path.GetTempPath(), "clrp-randomization-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        var trained = new Dictionary<string, ClrpExplainer>(StringComparer.Ordinal);
        var originals = new Dictionary<(string Method, int Scene, int Class), float[]>();
        int? classCount = null;
        try
        {
            foreach (RandomizationStep step in steps)
            {
                var missing = settings.Methods.ToDictionary(m => m.Name, m => set.Scenes.Where(s => !results.Has(Case(m.Name, step), s.Index)).ToArray());
                if (missing.Values.All(m => m.Length == 0))
                {
                    continue;
                }

                string model = settings.ModelPath;
                if (step.Parameters.Count > 0)
                {
                    model = Path.Combine(temp, step.Key + ".onnx");
                    File.WriteAllBytes(model, ParameterRandomization.Randomize(settings.ModelPath, step.Parameters, randomization.Seed));
                }

                foreach (EvalMethod method in settings.Methods.Where(m => missing[m.Name].Length > 0))
                {
                    if (!trained.TryGetValue(method.Name, out ClrpExplainer? original))
                    {
                        original = settings.LoadExplainer(method, m => CliErrors.Info(stderr, m));
                        trained[method.Name] = original;
                    }

                    using ClrpExplainer? randomized = step.Parameters.Count > 0 ? settings.LoadExplainer(method, _ => { }, model) : null;
                    foreach (Scene[] batch in missing[method.Name].Chunk(settings.Batch))
                    {
                        int[] own = [.. batch.Select(s => s.A.Class)];
                        float[][] before = Maps(original, method, set, batch, own, settings, originals);
                        classCount ??= randomized is null ? ClassCount(original, set, batch[0], settings) : null;
                        int[] compared = randomized is null ? [.. batch.Select(s => RandomClass(s, classCount!.Value, randomization.Seed))] : own;
                        float[][] after = randomized is null ? Maps(original, method, set, batch, compared, settings, originals) : Maps(randomized, method, set, batch, own, settings, null);
                        for (int s = 0; s < batch.Length; s++)
                        {
                            results.Append(
                            [
                                Case(method.Name, step), Text(batch[s].Index), method.Name, step.Key, Text(own[s]), Text(compared[s]),
                                Text(MapSimilarity.SpearmanAbs(before[s], after[s])), Text(MapSimilarity.SpearmanSigned(before[s], after[s])),
                                Text(MapSimilarity.Ssim(before[s], after[s], set.Width)),
                            ]);
                        }

                        progress.Advance(batch.Length);
                    }
                }

                if (model != settings.ModelPath)
                {
                    File.Delete(model);
                }
            }
        }
        finally
        {
            foreach (ClrpExplainer explainer in trained.Values)
            {
                explainer.Dispose();
            }

            Directory.Delete(temp, recursive: true);
        }

        progress.Finish();
        RandomizationReport.Print(stdout, settings, randomization, set, layers, steps, results, clock.Elapsed);
        return CliErrors.Success;
    }

    /// <summary>The resume key of a row.</summary>
    public static string Case(string method, RandomizationStep step) => method + "|" + step.Key;

    /// <summary>A class in neither object of <paramref name="scene"/>, drawn from the seed and the scene index alone.</summary>
    public static int RandomClass(Scene scene, int classes, int seed)
    {
        int[] others = [.. Enumerable.Range(0, classes).Where(c => c != scene.A.Class && c != scene.B.Class)];
        return others.Length == 0 ? scene.A.Class : others[new Random(unchecked((seed * 1_000_003) + scene.Index)).Next(others.Length)];
    }

    /// <summary>The number of logits, from one explanation of <paramref name="scene"/>.</summary>
    private static int ClassCount(ClrpExplainer explainer, SceneSet set, Scene scene, EvalSettings settings) =>
        explainer.Explain(set.Inputs([scene], settings.Scaling), Target.PerImage([scene.A.Class])).Logits.RowLength;

    /// <summary>The saliency maps of <paramref name="classes"/>[s] on scene s, through <paramref name="cache"/> when given.</summary>
    private static float[][] Maps(ClrpExplainer explainer, EvalMethod method, SceneSet set, Scene[] batch, int[] classes, EvalSettings settings, Dictionary<(string, int, int), float[]>? cache)
    {
        var maps = new float[batch.Length][];
        int[] todo = [.. Enumerable.Range(0, batch.Length).Where(s => cache is null || !cache.TryGetValue((method.Name, batch[s].Index, classes[s]), out maps[s]!))];
        if (todo.Length > 0)
        {
            Tensor input = set.Inputs([.. todo.Select(s => batch[s])], settings.Scaling);
            Explanation e = explainer.Explain(input, Target.PerImage([.. todo.Select(s => classes[s])]));
            for (int i = 0; i < todo.Length; i++)
            {
                float[] map = e.HeatmapOf(i);
                method.ToSaliency(map);
                maps[todo[i]] = map;
                cache?.Add((method.Name, batch[todo[i]].Index, classes[todo[i]]), map);
            }
        }

        return maps;
    }

    private static string Text(double v) => v.ToString("G7", CultureInfo.InvariantCulture);

    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
}
