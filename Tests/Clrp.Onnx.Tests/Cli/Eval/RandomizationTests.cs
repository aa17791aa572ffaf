using System.Globalization;
using Clrp.Cli.Evaluation;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>
/// <c>clrp eval randomization</c> and its parts: the similarities on hand-computed cases, the randomised copies of a model,
/// the command end to end on two scenes (a row recomputed through the library), resume, and bad input.
/// </summary>
[TestClass]
public sealed class RandomizationTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Spearman_MonotoneReversedAndSigned_HandValues()
    {
        float[] a = [1, 2, 3, 4, 5], b = [10, 20, 30, 40, 50];
        Assert.AreEqual(1.0, MapSimilarity.SpearmanAbs(a, b), 1e-12, "same order");
        Assert.AreEqual(-1.0, MapSimilarity.SpearmanSigned(a, [.. b.Reverse()]), 1e-12, "reversed order");
        // |[-3,-1,0,1,3]| = [3,1,0,1,3]: ranks 4.5,2.5,1,2.5,4.5 vs [1..5]: ρ = 0 by symmetry; signed: same order as [1..5].
        float[] signed = [-3, -1, 0, 1, 3];
        Assert.AreEqual(0.0, MapSimilarity.SpearmanAbs(signed, a), 1e-12, "abs ranks");
        Assert.AreEqual(1.0, MapSimilarity.SpearmanSigned(signed, a), 1e-12, "signed ranks");
    }

    [TestMethod]
    public void Ssim_OneWindowRampAgainstItsMirror_ClosedForm()
    {
        // 7×7: x_i = i/48 and y_i = (48 − i)/48 (both already scaled to max 1). μ = 0.5 each; sample variance of i/48 over
        // i = 0..48 is (49·50/12)/48²; the covariance is minus that.
        float[] x = [.. Enumerable.Range(0, 49).Select(i => i / 48f)];
        float[] y = [.. Enumerable.Range(0, 49).Select(i => (48 - i) / 48f)];
        double variance = 49.0 * 50 / 12 / (48.0 * 48), c1 = 1e-4, c2 = 9e-4;
        double expected = ((2 * 0.25) + c1) * ((-2 * variance) + c2) / ((0.5 + c1) * ((2 * variance) + c2));
        Assert.AreEqual(expected, MapSimilarity.Ssim(x, y, 7), 1e-6);
        Assert.AreEqual(1.0, MapSimilarity.Ssim(x, [.. x.Select(v => -3 * v)], 7), 1e-9, "maps equal up to scale and sign compare as equal (abs, scaled)");
    }

    [TestMethod]
    public void Layers_FashionPairVgg_SevenLinearLayersInputToLogitsWithTheirParameters()
    {
        IReadOnlyList<ParameterLayer> layers = ParameterRandomization.Layers(EvalPaths.PairVgg);

        CollectionAssert.AreEqual(new[] { "Conv", "Conv", "Conv", "Conv", "Gemm", "Gemm", "Gemm" }, layers.Select(l => l.OpType).ToArray());
        Assert.IsTrue(layers.All(l => l.Parameters.Count == 2), "weight and bias of every layer");
    }

    [TestMethod]
    public void Layers_ResNetWithBatchNormKept_TheFilesConvWeightsNotTheFoldedOnes()
    {
        IReadOnlyList<ParameterLayer> layers = ParameterRandomization.Layers(TestPaths.Model("fashion-pair-resnet.onnx"));

        Assert.HasCount(10, layers, "9 Convs (BatchNorm folded by the explainer) and the Gemm");
        Assert.AreEqual("Gemm", layers[^1].OpType);
        Assert.IsTrue(layers.Take(9).All(l => l.Parameters.Count == 1), "the Convs have weights only (no bias; BatchNorm follows)");
    }

    [TestMethod]
    public void Randomize_NamedParameters_RedrawnWithTheirScaleAndTheRestKept()
    {
        IReadOnlyList<ParameterLayer> layers = ParameterRandomization.Layers(EvalPaths.PairVgg);
        string top = layers[^1].Parameters[0], kept = layers[0].Parameters[0];
        byte[] bytes = ParameterRandomization.Randomize(EvalPaths.PairVgg, [top], seed: 3);
        string path = Path.Combine(_dir, "random.onnx");
        File.WriteAllBytes(path, bytes);

        float[] Weights(string model, string name) => Onnx.Graph.OnnxModelReader.Read(model).Constants[name].AsFloats();
        float[] before = Weights(EvalPaths.PairVgg, top), after = Weights(path, top);
        CollectionAssert.AreEqual(Weights(EvalPaths.PairVgg, kept), Weights(path, kept), "an unnamed layer keeps its weights");
        Assert.IsFalse(before.SequenceEqual(after), "the named weights changed");
        static double Std(float[] v) => Math.Sqrt(v.Average(x => x * (double)x) - Math.Pow(v.Average(x => (double)x), 2));
        Assert.AreEqual(Std(before), Std(after), 0.15 * Std(before), "drawn with the original's standard deviation");
        CollectionAssert.AreEqual(bytes, ParameterRandomization.Randomize(EvalPaths.PairVgg, [top], seed: 3), "deterministic");
        Assert.ThrowsExactly<InvalidInputException>(() => ParameterRandomization.Randomize(EvalPaths.PairVgg, ["no-such-weight"], 3));
    }

    [TestMethod]
    public void Randomization_TwoScenes_RowsForEveryStepAndARowRecomputedThroughTheLibrary()
    {
        string csv = Path.Combine(_dir, "r.csv"), plot = Path.Combine(_dir, "r.png");
        string[] args = ["eval", "randomization", "--model", EvalPaths.PairVgg, "--data", EvalPaths.Data, .. EvalPaths.PairScaling, "--limit", "2",
            "--methods", "gradient,lrp", "--modes", "cascading,random-logit", "--seed", "5", "--out", csv, "--plot", plot];
        CliRun run = CliRun.Of(args);

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "**cascading** (top-down");
        StringAssert.Contains(run.Stdout, "**random logit**");
        Assert.IsTrue(File.Exists(plot), "plot");
        string[] lines = File.ReadAllLines(csv);
        Assert.HasCount(2 + ((7 + 1) * 2 * 2), lines, "(7 cascading steps + random logit) × 2 methods × 2 scenes");

        // cascading-07 of lrp, scene 1: every layer randomised; recompute its Spearman ρ of |R| through the library.
        string[] row = lines.Single(l => l.StartsWith("lrp|cascading-07,1,", StringComparison.Ordinal)).Split(',');
        IReadOnlyList<ParameterLayer> layers = ParameterRandomization.Layers(EvalPaths.PairVgg);
        string random = Path.Combine(_dir, "all.onnx");
        File.WriteAllBytes(random, ParameterRandomization.Randomize(EvalPaths.PairVgg, [.. layers.SelectMany(l => l.Parameters)], 5));
        SceneSet set = SceneSetReader.Read(EvalPaths.Data, limit: 2);
        Tensor x = set.Inputs([set.Scenes[1]], new PixelScaling([0.1417f], [0.2478f], IsDatasetMean: true));
        var bounds = BoxBounds.FromMeanStd([0.1417f], [0.2478f]);
        float[] Map(string model)
        {
            using var explainer = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = Composites.Composites.Paper(bounds), Bounds = bounds });
            return explainer.Explain(x, set.Scenes[1].A.Class).HeatmapOf(0);
        }

        float[] trained = Map(EvalPaths.PairVgg), randomised = Map(random);
        Assert.AreEqual(MapSimilarity.SpearmanAbs(trained, randomised), double.Parse(row[6], CultureInfo.InvariantCulture), 1e-5, "spearman_abs");
        Assert.AreEqual(MapSimilarity.Ssim(trained, randomised, 64), double.Parse(row[8], CultureInfo.InvariantCulture), 1e-5, "ssim");

        CliRun again = CliRun.Of(args);
        again.AssertSuccess();
        StringAssert.Contains(again.Stderr, "resuming: 32 of 32");
        Assert.HasCount(lines.Length, File.ReadAllLines(csv), "a finished file gets no new rows");
    }

    [TestMethod]
    public void Randomization_UnknownMode_ExitsTwoListingTheModes()
    {
        CliRun.Of("eval", "randomization", "--model", EvalPaths.PairVgg, "--data", EvalPaths.Data, "--modes", "cascading,shuffle")
            .AssertBadInput("unknown mode 'shuffle'", "independent");
    }
}
