using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// ReduceMean/ReduceSum over non-batch axes (tf2onnx's global average pooling), axes as attribute or input, keepdims on
/// and off: Norm relevance <c>R_i = w·x_i/stab(z_j)·R_j</c> (conserving) and gradient <c>w·g</c>, against ORT's Jacobian.
/// </summary>
[TestClass]
public sealed class ReduceOpsTests
{
    private static readonly int[] Image = [2, 3, 4];

    [TestMethod]
    [DataRow("ReduceMean", 1, new long[] { 2, 3 }, 1)]
    [DataRow("ReduceMean", 13, new long[] { 2, 3 }, 1)]
    [DataRow("ReduceMean", 17, new long[] { -1 }, 0)]
    [DataRow("ReduceMean", 18, new long[] { 2, 3 }, 0)]
    [DataRow("ReduceMean", 22, new long[] { -2, -1 }, 1)]
    [DataRow("ReduceSum", 1, new long[] { 3 }, 1)]
    [DataRow("ReduceSum", 11, new long[] { 3 }, 1)]
    [DataRow("ReduceSum", 13, new long[] { 1, 3 }, 0)]
    [DataRow("ReduceSum", 22, new long[] { 2 }, 1)]
    public void Reduce_OverNonBatchAxes_NormRuleConservesAndGradientIsWeight(string op, int opset, long[] axes, int keepdims)
    {
        bool axesAsInput = opset >= (op == "ReduceMean" ? 18 : 13);
        var b = new OnnxBuilder(opset).Input("x", "N", 2, 3, 4);
        if (axesAsInput)
        {
            b.Int64Initializer("axes", axes, [axes.Length]).Node(op, ["x", "axes"], ["y"], OnnxBuilder.Int("keepdims", keepdims));
        }
        else
        {
            b.Node(op, ["x"], ["y"], OnnxBuilder.Ints("axes", axes), OnnxBuilder.Int("keepdims", keepdims));
        }

        byte[] model = b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        float[] x = CoverageHarness.Positive(opset, 24);
        CoverageHarness.AssertLinearOp(model, x, Image, $"{op}-{opset} axes [{string.Join(',', axes)}] keepdims {keepdims}");

        // Positive inputs and no bias: each output's seed arrives whole.
        Explanation e = CoverageHarness.Lrp(model, x, [1, .. Image], 0);
        Assert.AreEqual(e.Diagnostics[0].SeedSum, e.Diagnostics[0].InputSum, 1e-5 * e.Diagnostics[0].SeedSum, "conservation");
    }

    [TestMethod]
    [DataRow(13, null)]
    [DataRow(13, new long[] { 0, 2 })]
    public void Reduce_OverTheBatchAxis_RefusedAtLoad(int opset, long[]? axes)
    {
        var b = new OnnxBuilder(opset).Input("x", "N", 2, 3, 4);
        b.Node("ReduceMean", ["x"], ["y"], axes is null ? [OnnxBuilder.Int("keepdims", 1)] : [OnnxBuilder.Ints("axes", axes), OnnxBuilder.Int("keepdims", 1)]);
        byte[] model = b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "batch axis");
    }
}
