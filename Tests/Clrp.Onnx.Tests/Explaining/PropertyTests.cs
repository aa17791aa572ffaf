using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Explaining;

/// <summary>
/// Properties of the methods on small nets built in code (DESIGN.md §6): LRP-0 = Gradient⊙Input with float64 finite
/// differences as the oracle, conservation, batch and top-k invariance, CLRP1/CLRP2 by hand, SGLRP linearity, and
/// CLRP2's documented degenerate case under the ε rule.
/// </summary>
[TestClass]
public sealed class PropertyTests
{
    private static readonly BoxBounds Bounds = new([-2.5f, -3f], [2.5f, 2f]);

    /// <summary>x [N,2,7,7] → Conv → Relu → MaxPool → Conv → Relu → Flatten → Gemm → Relu → Gemm, every layer without bias.</summary>
    private static (byte[] Model, ReferenceNet Reference, TestNet Net) BiasFreeNet(Random random, ReferenceRuleSelector? rules = null)
    {
        var net = new TestNet(random, 2, 7, 7, rules).Conv(4, 3, pads: (1, 1, 1, 1), bias: false).Relu().MaxPool(2, 2)
            .Conv(4, 3, pads: (1, 1, 1, 1), bias: false).Relu().Flatten().Gemm(8, bias: false).Relu().Gemm(5, bias: false);
        (byte[] model, ReferenceNet reference) = net.Build();
        return (model, reference, net);
    }

    /// <summary>Inputs inside <see cref="Bounds"/>: channel 0 in [−2, 2], channel 1 in [−2.5, 1.5].</summary>
    private static float[] BoxedInput(Random random, int images)
    {
        var x = new List<float>();
        for (int n = 0; n < images; n++)
        {
            x.AddRange(RandomData.Uniform(random, 49, -2, 2));
            x.AddRange(RandomData.Uniform(random, 49, -2.5, 1.5));
        }

        return [.. x];
    }

    private static Explanation Explain(byte[] model, float[] x, int images, ExplainerOptions options, Target target) =>
        ExplainerHarness.Explain(model, x, [images, 2, 7, 7], options, target);

    // ---------------------------------------------------------------- (a) LRP-0 = Gradient⊙Input

    [TestMethod]
    [DataRow("conv-relu-conv-relu-flatten-gemm")]
    [DataRow("conv-relu-maxpool-conv-relu-gap-flatten-gemm")]
    public void Lrp0_BiasFreeReluNet_EqualsGradientTimesInput(string architecture)
    {
        var random = new Random(101);
        var net = new TestNet(random, 2, 7, 7).Conv(4, 3, pads: (1, 1, 1, 1), bias: false).Relu();
        _ = architecture.Contains("maxpool", StringComparison.Ordinal)
            ? net.MaxPool(2, 2).Conv(5, 3, pads: (1, 1, 1, 1), bias: false).Relu().GlobalAveragePool().Flatten()
            : net.Conv(3, 3, stride: (2, 2), pads: (1, 1, 1, 1), bias: false).Relu().Flatten();
        (byte[] model, ReferenceNet reference) = net.Gemm(4, bias: false).Build();
        float[] x = RandomData.Normal(random, net.InputLength);
        double[] xd = RandomData.ToDouble(x);
        double[] logits = reference.Logits(xd);
        int j = Enumerable.Range(0, logits.Length).MaxBy(c => logits[c]);

        // The oracle: central finite differences of the float64 reference forward (itself checked against ORT).
        Explanation lrp = Explain(model, x, 1, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.Epsilon(1e-9f) }, j);
        Compare.Close(lrp.Logits.Data, logits, 1e-5, "logits vs float64 reference");
        double[] fd = reference.FiniteDifferenceGradient(xd, j);
        Explanation gradient = Explain(model, x, 1, new ExplainerOptions { Method = ExplainMethod.Gradient }, j);
        Compare.Close(gradient.Relevance.Data, fd, 1e-4, "Gradient vs float64 finite differences");
        Explanation gi = Explain(model, x, 1, new ExplainerOptions { Method = ExplainMethod.GradientInput }, j);
        Compare.Close(gi.Relevance.Data, fd.Select((g, i) => g * xd[i]).ToArray(), 1e-4, "Gradient⊙Input vs x ⊙ finite differences");

        // LRP seeds |z_j|, the gradient seeds 1: R = sign(z_j)·|z_j|/z_j … = x ⊙ ∂z_j/∂x · |z_j|/z_j.
        double scale = Math.Abs(logits[j]) / logits[j];
        Compare.Close(lrp.Relevance.Data, fd.Select((g, i) => g * xd[i] * scale).ToArray(), 1e-4, "LRP-0 vs x ⊙ finite differences");
    }

    // ---------------------------------------------------------------- (b) conservation

    [TestMethod]
    [DataRow("paper")]
    [DataRow("epsilon-plus")]
    [DataRow("epsilon")]
    public void Lrp_BiasFreeNet_ConservesSeed(string composite)
    {
        var random = new Random(202);
        (byte[] model, _, _) = BiasFreeNet(random);
        float[] x = BoxedInput(random, 2);
        Explanation e = Explain(model, x, 2, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.ByName(composite, Bounds) }, Target.TopK(2));
        Assert.AreEqual(4, e.Diagnostics.Count);
        foreach (SeedDiagnostics d in e.Diagnostics)
        {
            double zj = e.Logits.Row(d.Image)[d.Class];
            Assert.AreEqual(Math.Abs(zj), d.SeedSum, 1e-6 * Math.Abs(zj), $"seed sum = |z_j| ({d})");
            Assert.AreEqual(d.SeedSum, d.InputSum, 1e-4 * Math.Abs(d.SeedSum), $"{composite}: Σ R_in = Σ R_out ({d})");
        }

        for (int row = 0; row < 4; row++)
        {
            double sum = e.Relevance.Data.AsSpan(row * 98, 98).ToArray().Sum(v => (double)v);
            Assert.AreEqual(e.Diagnostics[row].InputSum, sum, 1e-5 * Math.Abs(sum), "Relevance sums to the diagnostics' InputSum");
        }
    }

    [TestMethod]
    public void Lrp_PaperComposite_MatchesFloat64Reference()
    {
        // z^B (per-channel bounds) on the first Conv, z⁺ on every other linear layer, WTA on MaxPool.
        double[] low = [-2.5f, -3f], high = [2.5f, 2f];
        var random = new Random(303);
        (byte[] model, ReferenceNet reference, TestNet net) = BiasFreeNet(random, (_, first) => first ? ReferenceLinear.ZBox(low, high) : ReferenceLinear.ZPlus());
        float[] x = BoxedInput(random, 2);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Paper(Bounds), 2, 1e-4, "paper");
    }

    // ---------------------------------------------------------------- (c) batch and top-k invariance

    [TestMethod]
    [DataRow("lrp-paper-explicit-bounds", ExplainMethod.Lrp, true)]
    [DataRow("clrp1-paper-explicit-bounds", ExplainMethod.Clrp1, true)]
    [DataRow("clrp2-paper-explicit-bounds", ExplainMethod.Clrp2, true)]
    [DataRow("sglrp-paper-explicit-bounds", ExplainMethod.Sglrp, true)]
    [DataRow("gradient", ExplainMethod.Gradient, true)]
    // Regression: default z^B bounds (Bounds = null) are taken per image, so an image's map does not depend on the batch.
    [DataRow("clrp1-paper-default-bounds", ExplainMethod.Clrp1, false)]
    public void Explain_BatchOfThree_EqualsOneImageAtATime(string name, ExplainMethod method, bool explicitBounds)
    {
        var random = new Random(404);
        (byte[] model, _, _) = BiasFreeNet(random);
        float[] x = BoxedInput(random, 3);
        var options = new ExplainerOptions { Method = method, Bounds = explicitBounds ? Bounds : null };
        Explanation batched = Explain(model, x, 3, options, Target.PerImage(0, 3, 4));
        int[] targets = [0, 3, 4];
        for (int img = 0; img < 3; img++)
        {
            Explanation single = Explain(model, x[(img * 98)..((img + 1) * 98)], 1, options, targets[img]);
            Compare.Close(batched.Relevance.Data.AsSpan(img * 98, 98), single.Relevance.Data, 1e-5, $"{name}: image {img} batched vs alone");
        }
    }

    [TestMethod]
    [DataRow(ExplainMethod.Lrp)]
    [DataRow(ExplainMethod.Clrp1)]
    [DataRow(ExplainMethod.Clrp2)]
    [DataRow(ExplainMethod.Sglrp)]
    [DataRow(ExplainMethod.GradientInput)]
    public void Explain_TopThree_EqualsSeparateSingleClassExplanations(ExplainMethod method)
    {
        var random = new Random(505);
        (byte[] model, _, _) = BiasFreeNet(random);
        float[] x = BoxedInput(random, 2);
        var options = new ExplainerOptions { Method = method, Bounds = Bounds };
        Explanation top = Explain(model, x, 2, options, Target.TopK(3));
        CollectionAssert.AreEqual(new[] { 2, 3, 2, 7, 7 }, top.Relevance.Shape, "shape [N, k, C, H, W]");
        for (int img = 0; img < 2; img++)
        {
            float[] logits = top.Logits.Row(img).ToArray();
            int[] expectedOrder = Enumerable.Range(0, logits.Length).OrderByDescending(c => logits[c]).Take(3).ToArray();
            for (int k = 0; k < 3; k++)
            {
                int c = top.TargetClassOf(img, k);
                Assert.AreEqual(expectedOrder[k], c, $"image {img}: rank {k} class");
                Explanation single = Explain(model, x, 2, options, Target.PerImage(c, c));
                Compare.Close(top.Relevance.Data.AsSpan(((img * 3) + k) * 98, 98), single.Relevance.Data.AsSpan(img * 98, 98), 1e-6, $"{method}: image {img}, class {c}");
            }
        }
    }

    [TestMethod]
    public void Explain_SmallWalkBudget_ChunkedWalkEqualsOneWalk()
    {
        // The largest activation row is 4·7·7 floats; 5000 bytes (< 2 rows · 196 · 4 · 6) forces one seed per chunk.
        var random = new Random(515);
        (byte[] model, _, _) = BiasFreeNet(random);
        float[] x = BoxedInput(random, 2);
        foreach (ExplainMethod method in new[] { ExplainMethod.Clrp2, ExplainMethod.Clrp1, ExplainMethod.Lrp })
        {
            Explanation whole = Explain(model, x, 2, new ExplainerOptions { Method = method, Bounds = Bounds }, Target.TopK(3));
            Explanation chunked = Explain(model, x, 2, new ExplainerOptions { Method = method, Bounds = Bounds, MaxWalkBytes = 5000 }, Target.TopK(3));
            CollectionAssert.AreEqual(whole.Relevance.Data, chunked.Relevance.Data, $"{method}: chunked walk");
        }
    }

    [TestMethod]
    public void Explain_ModelWithBatchFixedAtOne_BatchOfThreeMatchesReference()
    {
        var random = new Random(525);
        var net = new TestNet(random, 2, 7, 7, fixedBatch: true).Conv(4, 3, pads: (1, 1, 1, 1)).Relu().MaxPool(2, 2).Reshape().Gemm(5);
        (byte[] model, ReferenceNet reference) = net.Build();
        float[] x = BoxedInput(random, 3);
        Explanation batched = Explain(model, x, 3, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.Epsilon() }, 1);
        for (int img = 0; img < 3; img++)
        {
            double[] xi = RandomData.ToDouble(x.AsSpan(img * 98, 98));
            double[] z = reference.Logits(xi);
            Compare.Close(batched.Logits.Row(img), z, 1e-5, $"image {img}: logits");
            var seed = new double[5];
            seed[1] = Math.Abs(z[1]);
            Compare.Close(batched.Relevance.Data.AsSpan(img * 98, 98), reference.Relevance(xi, seed), 1e-4, $"image {img}: ε-LRP vs reference");
        }
    }

    [TestMethod]
    public void Explain_ConcurrentCalls_SameAsSequential()
    {
        var random = new Random(535);
        (byte[] model, _, _) = BiasFreeNet(random);
        float[][] inputs = Enumerable.Range(0, 8).Select(_ => BoxedInput(random, 1)).ToArray();
        using var explainer = ClrpExplainer.Load(ExplainerHarness.Save(model), new ExplainerOptions { Method = ExplainMethod.Clrp2, Bounds = Bounds });
        float[][] sequential = inputs.Select(x => explainer.Explain(new Tensor(x, [1, 2, 7, 7]), Target.TopK(2)).Relevance.Data).ToArray();
        var concurrent = new float[inputs.Length][];
        Parallel.For(0, inputs.Length * 3, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            int i = k % inputs.Length;
            float[] r = explainer.Explain(new Tensor(inputs[i], [1, 2, 7, 7]), Target.TopK(2)).Relevance.Data;
            lock (concurrent)
            {
                concurrent[i] ??= r;
                CollectionAssert.AreEqual(concurrent[i], r, $"input {i}: two concurrent calls differ");
            }
        });
        for (int i = 0; i < inputs.Length; i++)
        {
            Compare.Close(concurrent[i], sequential[i], 1e-6, $"input {i}: concurrent vs sequential");
        }
    }

    /// <summary>
    /// A vector-input model ([N, F], e.g. an MLP) explained with the default options (paper composite, no bounds).
    /// Regression: default bounds once were per feature for [N, F] inputs (l_i = h_i = x_i), which zeroed every z^B term;
    /// they are now one range over all features.
    /// </summary>
    [TestMethod]
    public void Lrp_DefaultOptionsOnVectorInput_ConservesSeed()
    {
        Explanation e = ExplainerHarness.Explain(HandNet(), HandInput, [1, 3], new ExplainerOptions { Method = ExplainMethod.Lrp }, 0);
        Assert.AreEqual(5.0, e.Diagnostics[0].SeedSum, 1e-6);
        Assert.AreEqual(5.0, e.Diagnostics[0].InputSum, 1e-4, "paper composite with default bounds on a [N,3] input: Σ R_in");
    }

    // ---------------------------------------------------------------- (d) CLRP by hand

    /// <summary>
    /// x = [1, 2, 3] → h = ReLU(W1 x), W1 = [[1, 1, 0], [0, −1, 1]] → h = [3, 1] → z = W2 h, W2 = [[2, −1], [1, 1], [−1, 1]]
    /// → z = [5, 4, −2]; target j = 0; z⁺ on both layers; every number below is exact.
    /// </summary>
    private static byte[] HandNet() => new OnnxBuilder().Input("x", "N", 3)
        .Initializer("w1", [1, 1, 0, 0, -1, 1], [2, 3]).Initializer("w2", [2, -1, 1, 1, -1, 1], [3, 2])
        .Node("Gemm", ["x", "w1"], ["a"], "dense1", OnnxBuilder.Int("transB", 1)).Node("Relu", ["a"], ["h"], "relu")
        .Node("Gemm", ["h", "w2"], ["z"], "dense2", OnnxBuilder.Int("transB", 1)).Output("z").ToBytes();

    private static readonly Composite ZPlusEverywhere = new("zplus-all", _ => new ZPlusRule());

    private static readonly float[] HandInput = [1, 2, 3];

    [TestMethod]
    public void Clrp1_HandComputedTwoLayerNet()
    {
        // Target (seed [5, 0, 0]): logit layer z⁺, row 0 w⁺ = [2, 0]: h·w⁺ = [6, 0] → R_h = 5·[6, 0]/6 = [5, 0].
        //   First layer z⁺ (x ≥ 0): unit 1 w⁺ = [1, 1, 0], x·w⁺ = [1, 2, 0] → R = 5·[1, 2, 0]/3 = [5/3, 10/3, 0]; ΣR = 5.
        // Dual (uniform): seed |z_0|/(K−1) = 2.5 at classes 1 and 2.
        //   class 1: w⁺ = [1, 1], h·w⁺ = [3, 1] → 2.5·[3/4, 1/4] = [1.875, 0.625]; class 2: w⁺ = [0, 1] → [0, 2.5].
        //   R̄_h = [1.875, 3.125]; unit 1 → 1.875·[1, 2, 0]/3 = [0.625, 1.25, 0]; unit 2 w⁺ = [0, 0, 1] → [0, 0, 3.125].
        //   R̄ = [0.625, 1.25, 3.125]; ΣR̄ = 5.
        // CLRP: R/ΣR − R̄/ΣR̄ = [1/3 − 1/8, 2/3 − 1/4, 0 − 5/8] = [5/24, 10/24, −15/24] → map [5/24, 10/24, 0].
        Explanation e = ExplainerHarness.Explain(HandNet(), HandInput, [1, 3], new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = ZPlusEverywhere }, Target.Predicted);
        CollectionAssert.AreEqual(new float[] { 5, 4, -2 }, e.Logits.Data);
        Assert.AreEqual(0, e.TargetClass);
        Compare.Close(e.TargetRelevance!.Data, new double[] { 5 / 3.0, 10 / 3.0, 0 }, 1e-6, "R");
        Compare.Close(e.DualRelevance!.Data, new double[] { 0.625, 1.25, 3.125 }, 1e-6, "R̄");
        Compare.Close(e.SignedDifference!.Data, new double[] { 5 / 24.0, 10 / 24.0, -15 / 24.0 }, 1e-6, "signed difference");
        Compare.Close(e.Relevance.Data, new double[] { 5 / 24.0, 10 / 24.0, 0 }, 1e-6, "CLRP1 map");
        Assert.AreEqual(5.0, e.Diagnostics.Single(d => d.Seed == "dual").SeedSum, 1e-6, "dual seed sum");
    }

    [TestMethod]
    public void Clrp1_PerClassLogitDualSeed_HandComputed()
    {
        // Dual seed |z_c| at c ≠ 0: [0, 4, 2]. class 1: 4·[3/4, 1/4] = [3, 1]; class 2: 2·[0, 1] = [0, 2] → R̄_h = [3, 3].
        // R̄ = 3·[1, 2, 0]/3 + [0, 0, 3] = [1, 2, 3]; ΣR̄ = 6. Map: [1/3, 2/3, 0] − [1/6, 1/3, 1/2] = [1/6, 1/3, −1/2] → [1/6, 1/3, 0].
        Explanation e = ExplainerHarness.Explain(HandNet(), HandInput, [1, 3],
            new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = ZPlusEverywhere, DualSeed = DualSeed.PerClassLogit }, 0);
        Compare.Close(e.DualRelevance!.Data, new double[] { 1, 2, 3 }, 1e-6, "R̄");
        Compare.Close(e.Relevance.Data, new double[] { 1 / 6.0, 1 / 3.0, 0 }, 1e-6, "CLRP1 map");
    }

    [TestMethod]
    public void Clrp2_HandComputedTwoLayerNet()
    {
        // Dual: the same seed [5, 0, 0] through the logit layer with row 0 negated, −W2_0 = [−2, 1]: w⁺ = [0, 1],
        //   h·w⁺ = [0, 1] → R̄_h = [0, 5]; unit 2 (w⁺ = [0, 0, 1], x·w⁺ = [0, 0, 3]) → R̄ = [0, 0, 5]; ΣR̄ = 5.
        // CLRP: [1/3, 2/3, 0] − [0, 0, 1] = [1/3, 2/3, −1] → map [1/3, 2/3, 0].
        Explanation e = ExplainerHarness.Explain(HandNet(), HandInput, [1, 3], new ExplainerOptions { Method = ExplainMethod.Clrp2, Rules = ZPlusEverywhere }, 0);
        Compare.Close(e.TargetRelevance!.Data, new double[] { 5 / 3.0, 10 / 3.0, 0 }, 1e-6, "R");
        Compare.Close(e.DualRelevance!.Data, new double[] { 0, 0, 5 }, 1e-6, "R̄");
        Compare.Close(e.SignedDifference!.Data, new double[] { 1 / 3.0, 2 / 3.0, -1 }, 1e-6, "signed difference");
        Compare.Close(e.Relevance.Data, new double[] { 1 / 3.0, 2 / 3.0, 0 }, 1e-6, "CLRP2 map");
    }

    // ---------------------------------------------------------------- (e) SGLRP

    [TestMethod]
    [DataRow("paper")]
    [DataRow("epsilon-gamma-box")]
    public void Sglrp_SeedSumsToZeroAndMapIsLinearCombinationOfPerClassLrp(string composite)
    {
        var random = new Random(606);
        var net = new TestNet(random, 2, 7, 7).Conv(4, 3, pads: (1, 1, 1, 1)).Relu().MaxPool(2, 2).Conv(4, 3, pads: (1, 1, 1, 1)).Relu().Flatten().Gemm(5);
        (byte[] model, _) = net.Build();
        float[] x = BoxedInput(random, 1);
        Composite rules = CompositePresets.ByName(composite, Bounds);
        Explanation sg = Explain(model, x, 1, new ExplainerOptions { Method = ExplainMethod.Sglrp, Rules = rules }, 2);
        Assert.AreEqual(0, sg.Diagnostics[0].SeedSum, 1e-6, "Σ_c ∂softmax_j/∂z_c = 0");

        double[] z = RandomData.ToDouble(sg.Logits.Data);
        double max = z.Max();
        double[] p = z.Select(v => Math.Exp(v - max)).ToArray();
        double total = p.Sum();
        p = p.Select(v => v / total).ToArray();
        var expected = new double[98];
        for (int c = 0; c < z.Length; c++)
        {
            // LRP_c is seeded with |z_c|; the SGLRP seed of class c is p_2(δ_2c − p_c).
            double seed = c == 2 ? p[2] * (1 - p[2]) : -p[2] * p[c];
            Explanation lrp = Explain(model, x, 1, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = rules }, c);
            for (int i = 0; i < 98; i++)
            {
                expected[i] += seed / Math.Abs(z[c]) * lrp.Relevance.Data[i];
            }
        }

        Compare.Close(sg.Relevance.Data, expected, 1e-4, $"SGLRP ({composite}) vs Σ_c seed_c·LRP_c/|z_c|");
    }

    // ---------------------------------------------------------------- (f) CLRP2 under ε

    [TestMethod]
    public void Clrp2_EpsilonComposite_MapIsZeroAndWarns()
    {
        var random = new Random(707);
        (byte[] model, _) = new TestNet(random, 2, 7, 7).Conv(4, 3, pads: (1, 1, 1, 1)).Relu().Flatten().Gemm(5).Build();
        float[] x = BoxedInput(random, 1);
        var log = new List<string>();
        Explanation e = ExplainerHarness.Explain(model, x, [1, 2, 7, 7], new ExplainerOptions { Method = ExplainMethod.Clrp2, Rules = CompositePresets.Epsilon(), Log = log.Add }, Target.Predicted);
        Assert.IsTrue(log.Any(m => m.Contains("warning", StringComparison.OrdinalIgnoreCase) && m.Contains("CLRP2", StringComparison.Ordinal)), $"no CLRP2 warning in: {string.Join(" | ", log)}");
        double mapMax = e.Relevance.Data.Max(Math.Abs);
        double signedMax = e.SignedDifference!.Data.Max(Math.Abs);
        double normalised = e.TargetRelevance!.Data.Max(Math.Abs) / Math.Abs(e.TargetRelevance.Data.Sum(v => (double)v));
        Assert.IsTrue(signedMax < 1e-4 * normalised, $"CLRP2 under ε should be ~0: max |R/ΣR − R̄/ΣR̄| = {signedMax:E2} vs max |R/ΣR| = {normalised:E2}");
        Assert.IsTrue(mapMax < 1e-4 * normalised, $"CLRP2 map max {mapMax:E2}");

        var quiet = new List<string>();
        using (ClrpExplainer.Load(ExplainerHarness.Save(model), new ExplainerOptions { Method = ExplainMethod.Clrp2, Log = quiet.Add }))
        {
            Assert.IsFalse(quiet.Any(m => m.Contains("CLRP2", StringComparison.Ordinal)), "the paper composite (z⁺ on the logit layer) must not warn");
        }
    }
}
