using System.Globalization;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli.Evaluation;

/// <summary>The ablation's own options.</summary>
/// <param name="Steps">--steps: 1 % of the pixels per step.</param>
/// <param name="Seed">--seed of the random order and of tie-breaking.</param>
/// <param name="PlotPath">--plot, a PNG of the mean curves, or null.</param>
internal sealed record AblationSettings(int Steps, int Seed, string? PlotPath);

/// <summary>
/// Runs <c>clrp eval ablation</c>: for every scene, method and object, removes that object's class's most relevant
/// pixels 1 % at a time (the pixel set to the dataset mean in every channel) and records the drop of that class's
/// logit, and of the other object's class's logit, at each step; the random order is the baseline. The perturbed
/// images run through a forward-only <see cref="ValueRunner"/> on the logits (a full explanation per perturbed
/// image would cost forty times more).
/// </summary>
internal static class AblationRunner
{
    /// <summary>The random-order baseline's name in the method column.</summary>
    public const string RandomName = "random";

    /// <summary>
    /// The results columns: the unperturbed logits, AOPC of the explained class (aopc_a: removing a's pixels,
    /// a's logit) and of the other class (aopc_other_a: removing a's pixels, b's logit), then a's and b's curves.
    /// </summary>
    public static string[] Columns(int steps) =>
    [
        "method", "scene", "class_a", "class_b", "logit_a", "logit_b", "aopc_a", "aopc_b", "aopc_other_a", "aopc_other_b",
        .. Enumerable.Range(1, steps).Select(k => $"drop_a_{k:00}"), .. Enumerable.Range(1, steps).Select(k => $"drop_b_{k:00}"),
    ];

    public static int Run(EvalSettings settings, AblationSettings ablation, TextWriter stdout, TextWriter stderr)
    {
        SceneSet set = SceneSetReader.Read(settings.DataDir, settings.Limit);
        // A measured mean comes from every scene of the file, so that --limit does not change the fill (nor the run's identity).
        float[] fill = FillValues(settings.Scaling, settings.Scaling.IsDatasetMean ? set : SceneSetReader.Read(settings.DataDir));
        string parameters = string.Create(CultureInfo.InvariantCulture, $"steps {ablation.Steps} of 1% | seed {ablation.Seed} | fill {string.Join(';', fill.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))}");
        using ResultsFile results = ResultsFile.Open(settings.OutPath is null ? null : OutputPaths.Prepare(settings.OutPath), settings.Identity("ablation", parameters), Columns(ablation.Steps));
        MapFolder? mapFolder = MapFolder.Open(settings.MapsDir);
        using var loop = new EvalLoop(settings, stderr);
        string logitsName = ClrpExplainer.Inspect(settings.ModelPath).Logits;
        using ValueRunner logits = ValueRunner.Open(settings.ModelPath, logitsName, settings.Device, m => CliErrors.Info(stderr, m));
        int[] counts = Ablation.RemovalCounts(set.Plane, ablation.Steps);
        var byName = settings.Methods.ToDictionary(m => m.Name);
        TimeSpan elapsed = loop.Run(set, results, [.. byName.Keys, RandomName], "ablation rows", (name, scenes) =>
        {
            float[][][]? maps = name == RandomName ? null : SceneExplainer.Explain(loop.Explainer(byName[name]), byName[name], set, scenes, settings.Scaling);
            Tensor perturbed = Perturb(set, settings.Scaling, scenes, maps, counts, fill, ablation.Seed);
            Tensor z = RunInChunks(logits, perturbed);
            for (int s = 0; s < scenes.Count; s++)
            {
                if (maps is not null)
                {
                    mapFolder?.Write(name, scenes[s], maps[s], set.Height, set.Width);
                }

                results.Append(Row(name, scenes[s], s, z, ablation.Steps));
            }
        });

        AblationReport.Print(stdout, settings, ablation, set, results, [.. byName.Keys, RandomName], elapsed);
        return CliErrors.Success;
    }

    /// <summary>
    /// The fill value per channel in model space: the dataset mean normalised, i.e. 0 when --mean is the dataset
    /// mean; without --mean (pixels on [0,1], or --low/--high) the evaluation images' own mean, normalised.
    /// </summary>
    public static float[] FillValues(PixelScaling scaling, SceneSet set)
    {
        if (scaling.IsDatasetMean)
        {
            return new float[scaling.Mean.Length];
        }

        var fill = new float[set.Channels];
        Tensor all = set.Inputs(set.Scenes, scaling);
        for (int c = 0; c < set.Channels; c++)
        {
            double sum = 0;
            for (int n = 0; n < set.Scenes.Count; n++)
            {
                foreach (float v in all.Data.AsSpan(((n * set.Channels) + c) * set.Plane, set.Plane))
                {
                    sum += v;
                }
            }

            fill[c] = (float)(sum / ((double)set.Scenes.Count * set.Plane));
        }

        return fill;
    }

    /// <summary>
    /// Every perturbed image of the batch, [(scene·2 + object)·(steps+1) + step, C, H, W]: step k has the first
    /// counts[k] pixels of the object's order removed (step 0 is the scene itself).
    /// </summary>
    private static Tensor Perturb(SceneSet set, PixelScaling scaling, IReadOnlyList<Scene> scenes, float[][][]? maps, int[] counts, float[] fill, int seed)
    {
        Tensor clean = set.Inputs(scenes, scaling);
        int length = clean.RowLength, perObject = counts.Length;
        var result = new Tensor([scenes.Count * 2 * perObject, .. clean.Shape[1..]]);
        for (int s = 0; s < scenes.Count; s++)
        {
            for (int o = 0; o < 2; o++)
            {
                double[] keys = Ablation.RandomKeys(set.Plane, seed, scenes[s].Index, o);
                int[] order = maps is null ? Ablation.RandomOrder(keys) : Ablation.RelevanceOrder(maps[s][o], keys);
                for (int k = 0; k < perObject; k++)
                {
                    Span<float> image = result.Data.AsSpan(((((s * 2) + o) * perObject) + k) * length, length);
                    clean.Row(s).CopyTo(image);
                    Ablation.Remove(image, set.Plane, order, counts[k], fill);
                }
            }
        }

        return result;
    }

    /// <summary>Runs the logits of <paramref name="images"/> a few hundred at a time, to bound ONNX Runtime's memory.</summary>
    private static Tensor RunInChunks(ValueRunner runner, Tensor images)
    {
        const int chunk = 256;
        int n = images.Shape[0];
        Tensor? all = null;
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start);
            var part = new Tensor(images.Data.AsSpan(start * images.RowLength, count * images.RowLength).ToArray(), [count, .. images.Shape[1..]]);
            Tensor z = runner.Run(part);
            all ??= new Tensor(n, z.RowLength);
            z.Data.CopyTo(all.Data, start * all.RowLength);
        }

        return all!;
    }

    /// <summary>The results row of scene <paramref name="s"/> of the batch from the logits <paramref name="z"/> of its perturbed images.</summary>
    private static string[] Row(string method, Scene scene, int s, Tensor z, int steps)
    {
        int[] classes = [scene.A.Class, scene.B.Class];
        var drops = new double[2][];
        var aopc = new double[2];
        var aopcOther = new double[2];
        for (int o = 0; o < 2; o++)
        {
            int first = ((s * 2) + o) * (steps + 1);
            double[] Curve(int cls) => [.. Enumerable.Range(0, steps + 1).Select(k => (double)z.Row(first)[cls] - z.Row(first + k)[cls])];
            double[] own = Curve(classes[o]);
            drops[o] = own[1..];
            aopc[o] = Ablation.Aopc(own);
            aopcOther[o] = Ablation.Aopc(Curve(classes[1 - o]));
        }

        string[] head =
        [
            method, Text(scene.Index), Text(scene.A.Class), Text(scene.B.Class),
            Text(z.Row(s * 2 * (steps + 1))[scene.A.Class]), Text(z.Row(((s * 2) + 1) * (steps + 1))[scene.B.Class]),
            Text(aopc[0]), Text(aopc[1]), Text(aopcOther[0]), Text(aopcOther[1]),
        ];
        return [.. head, .. drops[0].Select(Text), .. drops[1].Select(Text)];
    }

    private static string Text(double v) => v.ToString("G7", CultureInfo.InvariantCulture);

    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
}
