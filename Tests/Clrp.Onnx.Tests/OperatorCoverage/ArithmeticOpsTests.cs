using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Add/Sub/Mul/Div. With a constant operand: relevance passes (summed over broadcast copies), the gradient is the
/// derivative (finite differences of ORT). With two activations: Add/Sub share in proportion, <c>R_a = a/stab(a ± b)·R</c>,
/// <c>R_b = ±b/stab(a ± b)·R</c>, against a float64 re-computation, and conserve; Div and ungated Mul are refused at load.
/// </summary>
[TestClass]
public sealed class ArithmeticOpsTests
{
    [TestMethod]
    [DataRow("Add", 7, false)]
    [DataRow("Sub", 7, false)]
    [DataRow("Sub", 13, true)]
    [DataRow("Mul", 13, false)]
    [DataRow("Div", 14, false)]
    [DataRow("Div", 21, true)]
    [DataRow("Mul", 21, true)]
    [DataRow("Add", 22, true)]
    public void ConstantOperand_PassesRelevanceSummedOverBroadcastAndGradientIsDerivative(string op, int opset, bool constantFirst)
    {
        // x [N,1,2,3] op c [1,3,1,1] → y [N,3,2,3]: output j copies-and-scales x[j mod 6].
        float[] c = [0.5f, -2f, 1.25f];
        byte[] model = new OnnxBuilder(opset).Input("x", "N", 1, 2, 3).Initializer("c", c, [1, 3, 1, 1])
            .Node(op, constantFirst ? ["c", "x"] : ["x", "c"], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        float[] x = CoverageHarness.Positive(opset, 6);
        Explanation lrp = CoverageHarness.Lrp(model, x, [1, 1, 2, 3], Target.TopK(18));
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, 1, 2, 3]);
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"{op}-{opset}: logits");
        for (int k = 0; k < 18; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            var expected = new double[6];
            expected[j % 6] = Math.Abs(y[j]);
            Compare.Close(lrp.Relevance.Data.AsSpan(k * 6, 6), expected, 1e-6, $"{op}-{opset}: output {j}'s relevance at its source");
        }

        AssertGradientsMatchFiniteDifferences(model, x, [1, 2, 3], 18, $"{op}-{opset}");
    }

    [TestMethod]
    [DataRow(7)]
    [DataRow(21)]
    public void BakedPreprocessing_SubDivByChannelConstants_SameRelevanceAsNormalisedInput(int opset)
    {
        // (x − mean)/std inside the graph passes relevance: explaining x equals explaining x' = (x − mean)/std without it.
        var random = new Random(opset);
        float[] mean = [0.4f, 0.5f, 0.6f], std = [0.2f, 0.25f, 0.3f];
        float[] w = RandomData.Normal(random, 4 * 3 * 3 * 3, 0.3), fc = RandomData.Normal(random, 5 * 64, 0.2);
        byte[] Model(bool withPreprocessing)
        {
            var b = new OnnxBuilder(opset).Input("x", "N", 3, 4, 4).Initializer("w", w, [4, 3, 3, 3]).Initializer("fc", fc, [5, 64]).Initializer("fb", [0.1f, -0.2f, 0.3f, 0f, 0.05f], [5]);
            string input = "x";
            if (withPreprocessing)
            {
                b.Initializer("mean", mean, [3, 1, 1]).Initializer("std", std, [3, 1, 1]).Node("Sub", ["x", "mean"], ["centred"]).Node("Div", ["centred", "std"], ["normalised"]);
                input = "normalised";
            }

            return b.Node("Conv", [input, "w"], ["c"], OnnxBuilder.Ints("pads", 1, 1, 1, 1)).Node("Relu", ["c"], ["r"]).Node("Flatten", ["r"], ["f"])
                .Node("Gemm", ["f", "fc", "fb"], ["out"], OnnxBuilder.Int("transB", 1)).Output("out").ToBytes();
        }

        float[] x = RandomData.Uniform(random, 48, 0, 1);
        float[] normalised = x.Select((v, i) => (v - mean[i / 16]) / std[i / 16]).ToArray();
        var options = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.EpsilonPlus() };
        Explanation inGraph = ExplainerHarness.Explain(Model(true), x, [1, 3, 4, 4], options, 2);
        Explanation outside = ExplainerHarness.Explain(Model(false), normalised, [1, 3, 4, 4], options, 2);
        Compare.Close(inGraph.Logits.Data, outside.Logits.Data, 1e-5, "logits");
        Compare.Close(inGraph.Relevance.Data, outside.Relevance.Data, 1e-5, "relevance through (x − mean)/std");
    }

    [TestMethod]
    [DataRow("Add", 7, false)]
    [DataRow("Add", 13, true)]
    [DataRow("Sub", 14, false)]
    [DataRow("Sub", 21, true)]
    [DataRow("Add", 22, false)]
    public void TwoActivations_NormRuleBroadcastAwareAndConserving(string op, int opset, bool broadcastFirst)
    {
        // a = x[:, 0:2] [N,2,2,3]; b = x[:, 2:4, 0:1] [N,2,1,3] broadcast over H; y = a ± b (or b ± a).
        var b = new OnnxBuilder(opset).Input("x", "N", 4, 2, 3);
        if (opset < 10)
        {
            b.Node("Slice", ["x"], ["a"], OnnxBuilder.Ints("starts", 0), OnnxBuilder.Ints("ends", 2), OnnxBuilder.Ints("axes", 1))
                .Node("Slice", ["x"], ["b"], OnnxBuilder.Ints("starts", 2, 0), OnnxBuilder.Ints("ends", 4, 1), OnnxBuilder.Ints("axes", 1, 2));
        }
        else
        {
            b.Int64Initializer("s0", [0], [1]).Int64Initializer("e0", [2], [1]).Int64Initializer("a0", [1], [1])
                .Int64Initializer("s1", [2, 0], [2]).Int64Initializer("e1", [4, 1], [2]).Int64Initializer("a1", [1, 2], [2])
                .Node("Slice", ["x", "s0", "e0", "a0"], ["a"]).Node("Slice", ["x", "s1", "e1", "a1"], ["b"]);
        }

        byte[] model = b.Node(op, broadcastFirst ? ["b", "a"] : ["a", "b"], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        float[] x = CoverageHarness.Positive(opset + op.Length, 24);
        Explanation lrp = CoverageHarness.Lrp(model, x, [1, 4, 2, 3], Target.TopK(12));
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, 4, 2, 3]);
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"{op}-{opset}: logits");
        double sign = op == "Sub" ? -1 : 1;
        for (int k = 0; k < 12; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            int c = j / 6, h = (j / 3) % 2, w = j % 3;
            int ia = (c * 6) + (h * 3) + w, ib = ((2 + c) * 6) + w;
            (int first, int second) = broadcastFirst ? (ib, ia) : (ia, ib);
            double z = x[first] + (sign * x[second]);
            double s = Math.Abs(y[j]) / (z + (z >= 0 ? 1e-6 : -1e-6));
            var expected = new double[24];
            expected[first] += x[first] * s;
            expected[second] += sign * x[second] * s;
            ReadOnlySpan<float> r = lrp.Relevance.Data.AsSpan(k * 24, 24);
            Compare.Close(r, expected, 1e-5, $"{op}-{opset}: Norm relevance of output {j}");
            Assert.AreEqual(Math.Abs(y[j]), CoverageHarness.Sum(r), 1e-5 * Math.Abs(y[j]) + 1e-5, $"{op}-{opset}: conservation for output {j}");
        }

        AssertGradientsMatchFiniteDifferences(model, x, [4, 2, 3], 12, $"{op}-{opset}");
    }

    [TestMethod]
    [DataRow(13)]
    [DataRow(22)]
    public void SumOfThreeActivations_ProportionalAndConserving(int opset)
    {
        // a, b, c = x[:, 0], x[:, 1], x[:, 2:3 over W 0:1] (broadcast); y = Sum(a, b, c): R_k = x_k·R/stab(Σ x), float64 below.
        var b = new OnnxBuilder(opset).Input("x", "N", 3, 2, 3)
            .Int64Initializer("s0", [0], [1]).Int64Initializer("e0", [1], [1]).Int64Initializer("s1", [1], [1]).Int64Initializer("e1", [2], [1])
            .Int64Initializer("s2", [2, 0], [2]).Int64Initializer("e2", [3, 1], [2]).Int64Initializer("ax", [1], [1]).Int64Initializer("ax2", [1, 3], [2])
            .Node("Slice", ["x", "s0", "e0", "ax"], ["a"]).Node("Slice", ["x", "s1", "e1", "ax"], ["b"]).Node("Slice", ["x", "s2", "e2", "ax2"], ["c"]);
        byte[] model = b.Node("Sum", ["a", "b", "c"], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        float[] x = CoverageHarness.Positive(opset + 3, 18);
        Explanation lrp = CoverageHarness.Lrp(model, x, [1, 3, 2, 3], Target.TopK(6));
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, 3, 2, 3]);
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"Sum-{opset}: logits");
        for (int k = 0; k < 6; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            int h = j / 3, w = j % 3;
            int[] sources = [(h * 3) + w, 6 + (h * 3) + w, 12 + (h * 3)];
            double z = sources.Sum(i => (double)x[i]);
            double s = Math.Abs(y[j]) / (z + (z >= 0 ? 1e-6 : -1e-6));
            var expected = new double[18];
            foreach (int i in sources)
            {
                expected[i] += x[i] * s;
            }

            ReadOnlySpan<float> r = lrp.Relevance.Data.AsSpan(k * 18, 18);
            Compare.Close(r, expected, 1e-5, $"Sum-{opset}: relevance of output {j}");
            Assert.AreEqual(Math.Abs(y[j]), CoverageHarness.Sum(r), 1e-5 * Math.Abs(y[j]) + 1e-5, $"Sum-{opset}: conservation for output {j}");
        }

        AssertGradientsMatchFiniteDifferences(model, x, [3, 2, 3], 6, $"Sum-{opset}");
    }

    [TestMethod]
    [DataRow("Div", "Div of two activations")]
    [DataRow("Mul", "only as a gate")]
    public void TwoActivations_DivOrUngatedMul_RefusedAtLoadWithReason(string op, string reason)
    {
        byte[] model = new OnnxBuilder(13).Input("x", "N", 4).Int64Initializer("s0", [0], [1]).Int64Initializer("e0", [2], [1]).Int64Initializer("s1", [2], [1]).Int64Initializer("e1", [4], [1])
            .Int64Initializer("axis", [1], [1]).Node("Slice", ["x", "s0", "e0", "axis"], ["a"]).Node("Slice", ["x", "s1", "e1", "axis"], ["b"])
            .Node(op, ["a", "b"], ["out"]).Output("out").ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, reason);
        StringAssert.Contains(e.Message, op);
    }

    /// <summary>Gradient mode for every output against central finite differences of ORT.</summary>
    internal static void AssertGradientsMatchFiniteDifferences(byte[] model, float[] x, int[] imageShape, int outputs, string what)
    {
        Explanation grad = CoverageHarness.Gradient(model, x, [1, .. imageShape], Target.TopK(outputs));
        using var oracle = new OrtOracle(model);
        for (int k = 0; k < outputs; k++)
        {
            int j = grad.TargetClassOf(0, k);
            double[] fd = oracle.FiniteDifferenceGradient(x, [1, .. imageShape], j, 1e-2f);
            Compare.Close(grad.Relevance.Data.AsSpan(k * x.Length, x.Length), fd, 2e-3, $"{what}: gradient of output {j} vs finite differences");
        }
    }
}
