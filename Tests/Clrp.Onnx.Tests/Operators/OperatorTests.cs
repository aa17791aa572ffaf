using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Operators;

/// <summary>
/// Each operator on one-node ONNX models built in code, with ONNX Runtime as the forward oracle, and inside small
/// nets whose LRP-ε and gradient are checked against an independent float64 reference (explicit matrices and
/// windows) or against central finite differences of ORT's forward.
/// </summary>
[TestClass]
public sealed class OperatorTests
{
    private const double LrpTolerance = 1e-4;
    private const double GradientTolerance = 1e-2;

    // ---------------------------------------------------------------- Conv

    [TestMethod]
    [DataRow("pads", 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, "NOTSET", 1, 1, 1, 1)]
    [DataRow("stride2-asymmetric-pads", 3, 7, 6, 4, 3, 2, 1, 2, 2, 1, 1, "NOTSET", 1, 0, 2, 1)]
    [DataRow("dilation2", 2, 7, 7, 3, 3, 3, 1, 1, 1, 2, 2, "NOTSET", 2, 2, 2, 2)]
    [DataRow("group2", 4, 5, 5, 6, 3, 3, 2, 1, 1, 1, 1, "NOTSET", 1, 1, 1, 1)]
    [DataRow("depthwise", 3, 6, 5, 3, 3, 3, 3, 2, 1, 1, 1, "NOTSET", 0, 1, 1, 0)]
    // SAME with H 7, k 4, s 2: out 4, total pad (4−1)·2 + 4 − 7 = 3; W 6, k 3, s 2: out 3, total (3−1)·2 + 3 − 6 = 1.
    [DataRow("same-upper", 2, 7, 6, 3, 4, 3, 1, 2, 2, 1, 1, "SAME_UPPER", 1, 0, 2, 1)]
    [DataRow("same-lower", 2, 7, 6, 3, 4, 3, 1, 2, 2, 1, 1, "SAME_LOWER", 2, 1, 1, 0)]
    [DataRow("valid", 2, 7, 6, 3, 3, 3, 1, 2, 2, 1, 1, "VALID", 0, 0, 0, 0)]
    public void ConvKernelForward_Attributes_MatchesOnnxRuntime(string name, int c, int h, int w, int m, int kH, int kW, int group, int sH, int sW, int dH, int dW,
        string autoPad, int pt, int pl, int pb, int pr)
    {
        var random = new Random(name.Length * 31);
        float[] weights = RandomData.Normal(random, m * (c / group) * kH * kW);
        float[] x = RandomData.Normal(random, 2 * c * h * w);
        var builder = new OnnxBuilder().Input("x", 2, c, h, w).Initializer("w", weights, [m, c / group, kH, kW])
            .Node("Conv", ["x", "w"], ["y"], "conv", OnnxBuilder.Ints("strides", sH, sW), OnnxBuilder.Ints("dilations", dH, dW), OnnxBuilder.Int("group", group),
                autoPad == "NOTSET" ? OnnxBuilder.Ints("pads", pt, pl, pb, pr) : OnnxBuilder.String("auto_pad", autoPad))
            .Output("y");
        byte[] model = builder.ToBytes();
        (float[] expected, int[] expectedShape) = OrtOracle.RunOnce(model, x, [2, c, h, w]);

        OnnxGraph graph = OnnxModelReader.Read(model, name);
        Window2d window = Window2d.FromNode(graph.Nodes[0], h, w, kH, kW, isPool: false);
        Assert.AreEqual((pt, pl, pb, pr), (window.PadTop, window.PadLeft, window.PadBottom, window.PadRight), $"{name}: pads");
        var kernel = new Conv2dKernel(c, m, group, window);
        Tensor actual = kernel.Forward(new Tensor(x, [2, c, h, w]), new LinearWeights(weights, m, group));
        CollectionAssert.AreEqual(expectedShape, actual.Shape, $"{name}: output shape");
        Compare.Close(actual.Data, expected, 1e-5, $"{name}: Conv2dKernel.Forward vs ORT");

        // The float64 reference's explicit matrix reproduces ORT too (it is the oracle of the rule tests).
        DenseMatrix dense = DenseMatrix.Conv(weights, null, c, h, w, m, kH, kW, group, (sH, sW), (pt, pl, pb, pr), (dH, dW));
        for (int img = 0; img < 2; img++)
        {
            double[] z = DenseReference.Forward(dense, RandomData.ToDouble(x.AsSpan(img * c * h * w, c * h * w)));
            Compare.Close(expected.AsSpan(img * z.Length, z.Length), z, 1e-5, $"{name}: dense reference matrix vs ORT");
        }
    }

    [TestMethod]
    [DataRow("pads1")]
    [DataRow("stride2-asymmetric-pads")]
    [DataRow("dilation2")]
    [DataRow("group2")]
    [DataRow("depthwise")]
    [DataRow("same-upper")]
    [DataRow("same-lower")]
    [DataRow("no-bias")]
    public void Conv_InNet_LrpEpsilonMatchesReference(string variant)
    {
        var random = new Random(variant.GetHashCode(StringComparison.Ordinal) & 0xffff);
        var net = new TestNet(random, 2, 7, 6);
        _ = variant switch
        {
            "pads1" => net.Conv(3, 3, pads: (1, 1, 1, 1)),
            "stride2-asymmetric-pads" => net.Conv(3, 3, stride: (2, 2), pads: (1, 0, 2, 1), kW: 2),
            "dilation2" => net.Conv(3, 3, dilation: (2, 2), pads: (2, 1, 2, 1)),
            "group2" => net.Conv(4, 3, group: 2, pads: (1, 1, 1, 1)),
            "depthwise" => net.Conv(2, 3, group: 2, stride: (2, 1), pads: (0, 1, 1, 0)),
            "same-upper" => net.Conv(3, 4, stride: (2, 2), autoPad: "SAME_UPPER", autoPadsForReference: (1, 0, 2, 1), kW: 3),
            "same-lower" => net.Conv(3, 4, stride: (2, 2), autoPad: "SAME_LOWER", autoPadsForReference: (2, 1, 1, 0), kW: 3),
            _ => net.Conv(3, 3, pads: (1, 1, 1, 1), bias: false),
        };
        (byte[] model, ReferenceNet reference) = net.Relu().Flatten().Gemm(4).Build();
        float[] x = RandomData.Normal(random, 2 * net.InputLength);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 1, LrpTolerance, variant);
    }

    [TestMethod]
    [DataRow("pads1")]
    [DataRow("stride2-group2")]
    public void ConvRelu_InNet_GradientMatchesFiniteDifferences(string variant)
    {
        var random = new Random(3);
        var net = new TestNet(random, 2, 6, 6);
        _ = variant == "pads1" ? net.Conv(3, 3, pads: (1, 1, 1, 1)) : net.Conv(4, 3, stride: (2, 2), group: 2, pads: (1, 1, 0, 0));
        (byte[] model, _) = net.Relu().Flatten().Gemm(3).Build();
        float[] x = RandomData.Normal(random, net.InputLength);
        ExplainerHarness.AssertGradientMatchesFiniteDifferences(model, x, net.InputShape, 2, 1e-3f, GradientTolerance, variant);
    }

    // ---------------------------------------------------------------- Gemm / MatMul

    [TestMethod]
    [DataRow(1, 1f, 1f, "vector")]
    [DataRow(0, 1f, 1f, "vector")]
    [DataRow(1, 0.5f, 2f, "row")]
    [DataRow(0, -1.5f, 0.25f, "scalar")]
    [DataRow(1, 2f, 1f, "none")]
    [DataRow(0, 1f, 3f, "row")]
    public void GemmNormalisedWeights_ReproduceOnnxRuntime(int transB, float alpha, float beta, string cKind)
    {
        const int inputs = 5, outputs = 3;
        var random = new Random(transB + (int)(10 * alpha) + cKind.Length);
        float[] b = RandomData.Normal(random, inputs * outputs);
        float[] c = RandomData.Normal(random, cKind == "scalar" ? 1 : outputs);
        float[] x = RandomData.Normal(random, 2 * inputs);
        var builder = new OnnxBuilder().Input("x", "N", inputs).Initializer("b", b, transB == 1 ? [outputs, inputs] : [inputs, outputs]);
        long[] cDims = cKind switch { "row" => [1, outputs], "scalar" => [], _ => [outputs] };
        if (cKind != "none")
        {
            builder.Initializer("c", c, cDims);
        }

        builder.Node("Gemm", cKind == "none" ? ["x", "b"] : ["x", "b", "c"], ["y"], "gemm",
            OnnxBuilder.Int("transB", transB), OnnxBuilder.Float32("alpha", alpha), OnnxBuilder.Float32("beta", beta)).Output("y");
        byte[] model = builder.ToBytes();
        (float[] expected, _) = OrtOracle.RunOnce(model, x, [2, inputs]);

        OnnxGraph graph = OnnxModelReader.Read(model, "gemm");
        var propagator = new GemmPropagator(graph.Nodes[0], graph);
        Tensor z = propagator.Kernel.Forward(new Tensor(x, [2, inputs]), propagator.Layer.Weights);
        if (propagator.Layer.Bias is not null)
        {
            propagator.Kernel.AddBias(z, propagator.Layer.Bias);
        }

        Assert.AreEqual(cKind == "none", propagator.Layer.Bias is null, "bias present iff C given");
        Compare.Close(z.Data, expected, 1e-5, $"Gemm transB {transB}, α {alpha}, β {beta}, C {cKind}");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void MatMulAdd_FusedToGemm_SameEpsilonLrpAsGemmModel(bool biasFirst)
    {
        // Same weights drawn in the same order: MatMul(x, Wᵀ) + b ≡ Gemm(x, W, b, transB=1).
        var matmulNet = new TestNet(new Random(8), 6);
        (byte[] matmulModel, ReferenceNet reference) = matmulNet.MatMulAdd(5, biasFirst).Relu().MatMulAdd(4, biasFirst).Build();
        var gemmNet = new TestNet(new Random(8), 6);
        (byte[] gemmModel, _) = gemmNet.Gemm(5).Relu().Gemm(4).Build();
        float[] x = RandomData.Normal(new Random(9), 3 * 6);

        Explanation viaMatMul = ExplainerHarness.AssertLrpMatchesReference(matmulModel, reference, x, [6], CompositePresets.Epsilon(), 2, LrpTolerance, "MatMul+Add");
        Explanation viaGemm = ExplainerHarness.Explain(gemmModel, x, [3, 6], new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.Epsilon() }, 2);
        Compare.Close(viaMatMul.Logits.Data, viaGemm.Logits.Data, 1e-6, "logits MatMul+Add vs Gemm");
        Compare.Close(viaMatMul.Relevance.Data, viaGemm.Relevance.Data, 1e-6, "ε-LRP MatMul+Add vs Gemm");

        // The bias must be in the ε denominator: the map does not conserve (the biases absorb some relevance).
        double seed = viaGemm.Diagnostics[0].SeedSum, arrived = viaGemm.Diagnostics[0].InputSum;
        Assert.IsTrue(Math.Abs(seed - arrived) > 1e-3 * Math.Abs(seed), $"biases absorbed nothing: seed {seed}, input {arrived}");
    }

    [TestMethod]
    public void MatMulWithoutAdd_InNet_LrpEpsilonMatchesReference()
    {
        var random = new Random(12);
        var net = new TestNet(random, 6).MatMul(5).Relu().MatMul(4);
        (byte[] model, ReferenceNet reference) = net.Build();
        float[] x = RandomData.Normal(random, 2 * 6);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 1, LrpTolerance, "MatMul");
    }

    // ---------------------------------------------------------------- MaxPool / GlobalMaxPool

    /// <summary>input [1,1,3,3] → MaxPool → Flatten: the logits are the pooled maxima; hand-computed winner-take-all, ties shared.</summary>
    [TestMethod]
    // k 2, s 1 (overlapping), no pads: windows {1,5,2,0} {5,5,0,3} {2,0,4,4} {0,3,4,1}.
    [DataRow("k2-s1", 2, 1, 0, 0, new float[] { 1, 5, 5, 2, 0, 3, 4, 4, 1 }, new float[] { 5, 5, 4, 4 },
        new float[] { 0, 5, 0, 0, 0, 0, 0, 0, 0, /**/ 0, 2.5f, 2.5f, 0, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 2, 2, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 4, 0 })]
    // k 2, s 2, ceil_mode: windows rows/cols {0,1} and {2}: {1,9,3,3} {2,7} {8,8} {4}.
    [DataRow("k2-s2-ceil", 2, 2, 0, 1, new float[] { 1, 9, 2, 3, 3, 7, 8, 8, 4 }, new float[] { 9, 7, 8, 4 },
        new float[] { 0, 9, 0, 0, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 7, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 4, 4, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 4 })]
    // k 3, s 2, pads 1 (overlapping, padding is −∞): windows rows/cols {0,1} and {1,2}: {1,9,3,3} {9,2,3,7} {3,3,8,8} {3,7,8,4};
    // input (0,1) wins two windows and collects both.
    [DataRow("k3-s2-pads1", 3, 2, 1, 0, new float[] { 1, 9, 2, 3, 3, 7, 8, 8, 4 }, new float[] { 9, 9, 8, 8 },
        new float[] { 0, 9, 0, 0, 0, 0, 0, 0, 0, /**/ 0, 9, 0, 0, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 4, 4, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 8, 0 })]
    public void MaxPool_HandComputed_WinnerTakesAllTiesShared(string name, int k, int s, int pad, int ceil, float[] x, float[] logits, float[] relevancePerClass)
    {
        byte[] model = new OnnxBuilder().Input("x", "N", 1, 3, 3)
            .Node("MaxPool", ["x"], ["p"], "pool", OnnxBuilder.Ints("kernel_shape", k, k), OnnxBuilder.Ints("strides", s, s),
                OnnxBuilder.Ints("pads", pad, pad, pad, pad), OnnxBuilder.Int("ceil_mode", ceil))
            .Node("Flatten", ["p"], ["y"], "flatten").Output("y").ToBytes();
        for (int j = 0; j < 4; j++)
        {
            Explanation e = ExplainerHarness.Explain(model, x, [1, 1, 3, 3], new ExplainerOptions { Method = ExplainMethod.Lrp }, j);
            CollectionAssert.AreEqual(logits, e.Logits.Data, $"{name}: ORT's pooled values");
            CollectionAssert.AreEqual(relevancePerClass.AsSpan(j * 9, 9).ToArray(), e.Relevance.Data, $"{name}: relevance of output {j}");

            // Gradient mode routes the same way with seed 1.
            Explanation g = ExplainerHarness.Explain(model, x, [1, 1, 3, 3], new ExplainerOptions { Method = ExplainMethod.Gradient }, j);
            CollectionAssert.AreEqual(relevancePerClass.AsSpan(j * 9, 9).ToArray().Select(v => v / logits[j]).ToArray(), g.Relevance.Data, $"{name}: gradient of output {j}");
        }
    }

    [TestMethod]
    public void GlobalMaxPool_HandComputed_WinnerTakesAllTiesShared()
    {
        // Channel 0: max 5 twice → 2.5 each; channel 1 (all negative): max −1 at (0,0), seed |−1| = 1.
        float[] x = [1, 5, 5, 2, 0, 3, 4, 4, 1, /**/ -1, -2, -3, -4, -5, -6, -7, -8, -9];
        byte[] model = new OnnxBuilder().Input("x", "N", 2, 3, 3).Node("GlobalMaxPool", ["x"], ["p"], "gmp").Node("Flatten", ["p"], ["y"], "flatten").Output("y").ToBytes();
        Explanation e0 = ExplainerHarness.Explain(model, x, [1, 2, 3, 3], new ExplainerOptions { Method = ExplainMethod.Lrp }, 0);
        CollectionAssert.AreEqual(new float[] { 5, -1 }, e0.Logits.Data);
        CollectionAssert.AreEqual(new float[] { 0, 2.5f, 2.5f, 0, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0 }, e0.Relevance.Data);
        Explanation e1 = ExplainerHarness.Explain(model, x, [1, 2, 3, 3], new ExplainerOptions { Method = ExplainMethod.Lrp }, 1);
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, /**/ 1, 0, 0, 0, 0, 0, 0, 0, 0 }, e1.Relevance.Data);
    }

    [TestMethod]
    [DataRow("k3-s2-pads1", 3, 2, 1, false)]
    [DataRow("k2-s1-overlap", 2, 1, 0, false)]
    [DataRow("k2-s2-ceil", 2, 2, 0, true)]
    [DataRow("global", 0, 0, 0, false)]
    public void MaxPool_InNet_LrpEpsilonMatchesReferenceAndGradientMatchesFiniteDifferences(string name, int k, int s, int pad, bool ceil)
    {
        var random = new Random(21 + k);
        var net = new TestNet(random, 2, 7, 7).Conv(3, 3, pads: (1, 1, 1, 1)).Relu();
        _ = k == 0 ? net.GlobalMaxPool() : net.MaxPool(k, s, (pad, pad, pad, pad), ceil);
        (byte[] model, ReferenceNet reference) = net.Flatten().Gemm(4).Build();
        float[] x = RandomData.Normal(random, 2 * net.InputLength);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 3, LrpTolerance, $"MaxPool {name}");
        ExplainerHarness.AssertGradientMatchesFiniteDifferences(model, x[..net.InputLength], net.InputShape, 3, 1e-3f, GradientTolerance, $"MaxPool {name}");
    }

    // ---------------------------------------------------------------- AveragePool / GlobalAveragePool

    /// <summary>
    /// input 1..9 as [1,1,3,3] → AveragePool k 2, s 2, pads 1 → Flatten. Windows inside the input: {1} {2,3} {4,7} {5,6,8,9}.
    /// Norm rule: R_i = x_i·w / Σ x·w · R_j, so the count cancels: class 3 (seed |z_3|) gives [5,6,8,9]/28·|z_3|.
    /// Gradient: w = 1/4 with count_include_pad, 1/count inside otherwise.
    /// </summary>
    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    public void AveragePool_HandComputed_NormRuleAndGradient(int countIncludePad)
    {
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        byte[] model = new OnnxBuilder().Input("x", "N", 1, 3, 3)
            .Node("AveragePool", ["x"], ["p"], "pool", OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2),
                OnnxBuilder.Ints("pads", 1, 1, 1, 1), OnnxBuilder.Int("count_include_pad", countIncludePad))
            .Node("Flatten", ["p"], ["y"], "flatten").Output("y").ToBytes();
        float[] logits = countIncludePad == 1 ? [1 / 4f, 5 / 4f, 11 / 4f, 28 / 4f] : [1, 5 / 2f, 11 / 2f, 7];
        Explanation e = ExplainerHarness.Explain(model, x, [1, 1, 3, 3], new ExplainerOptions { Method = ExplainMethod.Lrp }, 3);
        Compare.Close(e.Logits.Data, logits, 1e-6, "pooled values");
        double z3 = logits[3];
        Compare.Close(e.Relevance.Data, new double[] { 0, 0, 0, 0, 5 * z3 / 28, 6 * z3 / 28, 0, 8 * z3 / 28, 9 * z3 / 28 }, 1e-5, "Norm relevance of output 3");

        Explanation e1 = ExplainerHarness.Explain(model, x, [1, 1, 3, 3], new ExplainerOptions { Method = ExplainMethod.Lrp }, 1);
        double z1 = logits[1];
        Compare.Close(e1.Relevance.Data, new double[] { 0, 2 * z1 / 5, 3 * z1 / 5, 0, 0, 0, 0, 0, 0 }, 1e-5, "Norm relevance of output 1");

        Explanation g = ExplainerHarness.Explain(model, x, [1, 1, 3, 3], new ExplainerOptions { Method = ExplainMethod.Gradient }, 1);
        double w1 = countIncludePad == 1 ? 0.25 : 0.5;
        Compare.Close(g.Relevance.Data, new double[] { 0, w1, w1, 0, 0, 0, 0, 0, 0 }, 1e-6, "gradient of output 1");
    }

    /// <summary>
    /// input 1..9 as [1,1,3,3] → AveragePool k 2, s 2, ceil_mode, count_include_pad = 1, no pads → Flatten. The ceil-mode
    /// windows overhang the input without any padding there: ONNX Runtime (like PyTorch) divides by the window clipped to
    /// input + pads, i.e. {1,2,4,5}/4, {3,6}/2, {7,8}/2, {9}/1 — so ∂y_3/∂x_9 = 1, not 1/4. Finite differences of ORT are the oracle.
    /// Regression test: the engine once divided by kH·kW for every window here (gradient ¼ instead of ½ and 1).
    /// </summary>
    [TestMethod]
    public void AveragePool_CeilModeCountIncludePad_GradientMatchesFiniteDifferences()
    {
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        byte[] model = new OnnxBuilder().Input("x", "N", 1, 3, 3)
            .Node("AveragePool", ["x"], ["p"], "pool", OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2),
                OnnxBuilder.Int("ceil_mode", 1), OnnxBuilder.Int("count_include_pad", 1))
            .Node("Flatten", ["p"], ["y"], "flatten").Output("y").ToBytes();
        (float[] pooled, _) = OrtOracle.RunOnce(model, x, [1, 1, 3, 3]);
        Compare.Close(pooled, new double[] { 3, 4.5, 7.5, 9 }, 1e-6, "ORT's pooled values (overhang not counted)");
        for (int j = 0; j < 4; j++)
        {
            ExplainerHarness.AssertGradientMatchesFiniteDifferences(model, x, [1, 3, 3], j, 1e-2f, 1e-3, $"ceil-mode include-pad output {j}");
        }
    }

    [TestMethod]
    public void GlobalAveragePool_HandComputed_NormRuleAndGradient()
    {
        // Channel 0 = 1..9: mean 5; R_i = x_i/45·5 = x_i/9. Gradient 1/9 everywhere on channel 0.
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9, /**/ 2, 2, 2, 2, 2, 2, 2, 2, 2];
        byte[] model = new OnnxBuilder().Input("x", "N", 2, 3, 3).Node("GlobalAveragePool", ["x"], ["p"], "gap").Node("Flatten", ["p"], ["y"], "flatten").Output("y").ToBytes();
        Explanation e = ExplainerHarness.Explain(model, x, [1, 2, 3, 3], new ExplainerOptions { Method = ExplainMethod.Lrp }, 0);
        Compare.Close(e.Logits.Data, new double[] { 5, 2 }, 1e-6, "means");
        Compare.Close(e.Relevance.Data, x.Select((v, i) => i < 9 ? v / 9.0 : 0).ToArray(), 1e-5, "Norm relevance");
        Explanation g = ExplainerHarness.Explain(model, x, [1, 2, 3, 3], new ExplainerOptions { Method = ExplainMethod.Gradient }, 0);
        Compare.Close(g.Relevance.Data, x.Select((_, i) => i < 9 ? 1 / 9.0 : 0).ToArray(), 1e-6, "gradient");
    }

    [TestMethod]
    [DataRow("k3-s2-pads1-exclude", 3, 2, 1, false, false)]
    [DataRow("k3-s2-pads1-include", 3, 2, 1, true, false)]
    [DataRow("k2-s1-overlap", 2, 1, 0, false, false)]
    [DataRow("k2-s2-ceil-exclude", 2, 2, 0, false, true)]
    [DataRow("global", 0, 0, 0, false, false)]
    public void AveragePool_InNet_LrpEpsilonMatchesReferenceAndGradientMatchesFiniteDifferences(string name, int k, int s, int pad, bool include, bool ceil)
    {
        var random = new Random(40 + k + (include ? 1 : 0));
        var net = new TestNet(random, 2, 7, 7).Conv(3, 3, pads: (1, 1, 1, 1)).Relu();
        _ = k == 0 ? net.GlobalAveragePool() : net.AveragePool(k, s, (pad, pad, pad, pad), include, ceil);
        (byte[] model, ReferenceNet reference) = net.Flatten().Gemm(4).Build();
        float[] x = RandomData.Normal(random, 2 * net.InputLength);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 0, LrpTolerance, $"AveragePool {name}");
        ExplainerHarness.AssertGradientMatchesFiniteDifferences(model, x[..net.InputLength], net.InputShape, 0, 1e-3f, GradientTolerance, $"AveragePool {name}");
    }

    // ---------------------------------------------------------------- reshaping and pass-through ops

    [TestMethod]
    [DataRow("flatten")]
    [DataRow("reshape-initializer")]
    [DataRow("reshape-constant-node")]
    [DataRow("dropout-identity")]
    public void ShapeAndPassThroughOps_InNet_LrpEpsilonMatchesReference(string variant)
    {
        var random = new Random(60 + variant.Length);
        var net = new TestNet(random, 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1));
        if (variant == "dropout-identity")
        {
            net.PassThrough("Dropout").Relu().PassThrough("Identity");
        }
        else
        {
            net.Relu();
        }

        _ = variant switch
        {
            "reshape-initializer" => net.Reshape(),
            "reshape-constant-node" => net.Reshape(shapeFromConstantNode: true),
            _ => net.Flatten(),
        };
        if (variant == "dropout-identity")
        {
            net.PassThrough("Dropout");
        }

        (byte[] model, ReferenceNet reference) = net.Gemm(5).Build();
        float[] x = RandomData.Normal(random, 2 * net.InputLength);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 4, LrpTolerance, variant);
        ExplainerHarness.AssertGradientMatchesFiniteDifferences(model, x[..net.InputLength], net.InputShape, 4, 1e-3f, GradientTolerance, variant);
    }

    [TestMethod]
    [DataRow("Softmax")]
    [DataRow("LogSoftmax")]
    public void FinalSoftmax_TakenAsLogits(string opType)
    {
        var random = new Random(77);
        var net = new TestNet(random, 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1)).Relu().Flatten().Gemm(4);
        string logitsName = net.OutputName;
        (byte[] model, ReferenceNet reference) = net.Softmax(opType).Build();
        float[] x = RandomData.Normal(random, 2 * net.InputLength);
        using (var explainer = ClrpExplainer.Load(ExplainerHarness.Save(model), new ExplainerOptions { Method = ExplainMethod.Lrp }))
        {
            Assert.AreEqual(logitsName, explainer.LogitsName);
        }

        // The reference stops before the Softmax: the explainer's logits and ε-LRP are those of the Gemm output.
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 1, LrpTolerance, opType);
    }

    [TestMethod]
    public void Relu_Gradient_MasksNegativePreActivations()
    {
        // x → Relu → Flatten as logits: ∂y_j/∂x_j = 1 where x_j > 0, else 0; LRP passes the seed |y_j| through.
        float[] x = [-1, 2, 0.5f, -3];
        byte[] model = new OnnxBuilder().Input("x", "N", 4, 1, 1).Node("Relu", ["x"], ["r"], "relu").Node("Flatten", ["r"], ["y"], "flatten").Output("y").ToBytes();
        Explanation g1 = ExplainerHarness.Explain(model, x, [1, 4, 1, 1], new ExplainerOptions { Method = ExplainMethod.Gradient }, 1);
        CollectionAssert.AreEqual(new float[] { 0, 1, 0, 0 }, g1.Relevance.Data);
        Explanation g0 = ExplainerHarness.Explain(model, x, [1, 4, 1, 1], new ExplainerOptions { Method = ExplainMethod.Gradient }, 0);
        CollectionAssert.AreEqual(new float[] { 0, 0, 0, 0 }, g0.Relevance.Data);
        Explanation r2 = ExplainerHarness.Explain(model, x, [1, 4, 1, 1], new ExplainerOptions { Method = ExplainMethod.Lrp }, 2);
        CollectionAssert.AreEqual(new float[] { 0, 0, 0.5f, 0 }, r2.Relevance.Data);
    }
}
