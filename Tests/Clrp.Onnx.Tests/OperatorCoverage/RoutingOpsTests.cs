using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Transpose, Slice, Pad, Expand, Concat, Split on one-op models <c>x → op → Flatten</c>, attribute and input forms across
/// opsets: ONNX Runtime's forward and Jacobian are the oracle (<see cref="CoverageHarness.AssertLinearOp"/>): each output's
/// relevance and gradient go to the element it copied, padded cells and constant inputs get none.
/// </summary>
[TestClass]
public sealed class RoutingOpsTests
{
    private static readonly int[] Image = [2, 3, 4];

    private static byte[] OneOp(long opset, int[] inShape, Action<OnnxBuilder> op)
    {
        var b = new OnnxBuilder(opset).Input("x", ["N", .. inShape.Select(d => (object)(long)d)]);
        op(b);
        return b.Node("Flatten", ["y"], ["out"], "flatten").Output("out").ToBytes();
    }

    [TestMethod]
    [DataRow(1, new long[] { 0, 2, 3, 1 })]
    [DataRow(13, new long[] { 0, 1, 3, 2 })]
    [DataRow(22, new long[] { 0, 3, 1, 2 })]
    public void Transpose_NonBatchPermutation_RoutesToSource(int opset, long[] perm)
    {
        byte[] model = OneOp(opset, Image, b => b.Node("Transpose", ["x"], ["y"], OnnxBuilder.Ints("perm", perm)));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 24), Image, $"Transpose-{opset} [{string.Join(',', perm)}]");
    }

    [TestMethod]
    [DataRow(6)]
    [DataRow(13)]
    public void Tile_ConstantRepeats_SumsCopiesBack(int opset)
    {
        byte[] model = OneOp(opset, Image, b => b.Int64Initializer("repeats", [1, 2, 1, 3], [4]).Node("Tile", ["x", "repeats"], ["y"]));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 24), Image, $"Tile-{opset}");
    }

    [TestMethod]
    public void Tile_RepeatingTheBatch_RefusedAtRunWithReason()
    {
        byte[] model = OneOp(13, Image, b => b.Int64Initializer("repeats", [2, 1, 1, 1], [4]).Node("Tile", ["x", "repeats"], ["y"]));
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => CoverageHarness.Lrp(model, CoverageHarness.AwayFromZero(3, 24), [1, .. Image], Target.Predicted));
        StringAssert.Contains(e.Message, "batch axis");
    }

    [TestMethod]
    [DataRow(1, "")]
    [DataRow(13, "DCR")]
    [DataRow(13, "CRD")]
    public void DepthToSpace_RoutesEachElementToItsSource(int opset, string mode)
    {
        int[] shape = [8, 2, 3];
        byte[] model = OneOp(opset, shape, b => b.Node("DepthToSpace", ["x"], ["y"], mode.Length == 0
            ? [OnnxBuilder.Int("blocksize", 2)]
            : [OnnxBuilder.Int("blocksize", 2), OnnxBuilder.String("mode", mode)]));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset + mode.Length, 48), shape, $"DepthToSpace-{opset} {mode}");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(13)]
    public void SpaceToDepth_RoutesEachElementToItsSource(int opset)
    {
        int[] shape = [2, 4, 6];
        byte[] model = OneOp(opset, shape, b => b.Node("SpaceToDepth", ["x"], ["y"], OnnxBuilder.Int("blocksize", 2)));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 48), shape, $"SpaceToDepth-{opset}");
    }

    [TestMethod]
    public void Transpose_MovingTheBatchAxis_RefusedAtLoad()
    {
        byte[] model = OneOp(13, Image, b => b.Node("Transpose", ["x"], ["y"], OnnxBuilder.Ints("perm", 1, 0, 2, 3)));
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "batch axis");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(9)]
    public void Slice_AttributeForm_RoutesToSource(int opset)
    {
        byte[] model = OneOp(opset, Image, b => b.Node("Slice", ["x"], ["y"], OnnxBuilder.Ints("starts", 1, -3), OnnxBuilder.Ints("ends", 3, 1000), OnnxBuilder.Ints("axes", 2, 3)));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 24), Image, $"Slice-{opset} attributes");
    }

    [TestMethod]
    [DataRow(10, new long[] { 0, 1 }, new long[] { 1, 3 }, new long[] { 1, 2 }, null)]
    [DataRow(13, new long[] { -1, 0 }, new long[] { -5, 4 }, new long[] { 3, -2 }, new long[] { -1, 2 })]
    [DataRow(22, new long[] { 2, 1 }, new long[] { long.MinValue, long.MaxValue }, new long[] { 2, 3 }, new long[] { -2, 2 })]
    public void Slice_InputsWithStepsAndNegativeIndices_RoutesToSource(int opset, long[] starts, long[] ends, long[] axes, long[]? steps)
    {
        byte[] model = OneOp(opset, Image, b =>
        {
            b.Int64Initializer("starts", starts, [starts.Length]).Int64Initializer("ends", ends, [ends.Length]).Int64Initializer("axes", axes, [axes.Length]);
            if (steps is not null)
            {
                b.Int64Initializer("steps", steps, [steps.Length]);
            }

            b.Node("Slice", steps is null ? ["x", "starts", "ends", "axes"] : ["x", "starts", "ends", "axes", "steps"], ["y"]);
        });
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 24), Image, $"Slice-{opset}");
    }

    [TestMethod]
    [DataRow(2, "constant")]
    [DataRow(7, "reflect")]
    [DataRow(10, "edge")]
    public void Pad_AttributeForm_DropsPaddingOrRoutesCopiesToSource(int opset, string mode)
    {
        // pads [x1_begin…, x1_end…]: H +1/+2, W −1 (crop)/+2.
        byte[] model = OneOp(opset, Image, b => b.Node("Pad", ["x"], ["y"], OnnxBuilder.String("mode", mode), OnnxBuilder.Ints("pads", 0, 0, 1, -1, 0, 0, 2, 2), OnnxBuilder.Float32("value", 0.5f)));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset + mode.Length, 24), Image, $"Pad-{opset} {mode}");
    }

    [TestMethod]
    [DataRow(11, "constant")]
    [DataRow(13, "reflect")]
    [DataRow(18, "edge")]
    [DataRow(19, "wrap")]
    [DataRow(22, "reflect")]
    public void Pad_InputForm_DropsPaddingOrRoutesCopiesToSource(int opset, string mode)
    {
        bool axes = opset >= 18;
        byte[] model = OneOp(opset, Image, b =>
        {
            b.Int64Initializer("pads", axes ? [2, 1, 1, 3] : [0, 0, 2, 1, 0, 0, 1, 3], [axes ? 4 : 8]).Initializer("value", [-1.5f], []);
            if (axes)
            {
                b.Int64Initializer("axes", [-2, 3], [2]);
            }

            b.Node("Pad", axes ? ["x", "pads", "value", "axes"] : ["x", "pads", "value"], ["y"], OnnxBuilder.String("mode", mode));
        });
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset + mode.Length, 24), Image, $"Pad-{opset} {mode}");
    }

    [TestMethod]
    [DataRow(8)]
    [DataRow(13)]
    [DataRow(22)]
    public void Expand_ConstantShape_SumsCopiesBack(int opset)
    {
        int[] shape = [2, 1, 3];
        byte[] model = OneOp(opset, shape, b => b.Int64Initializer("shape", [1, 2, 4, 1], [4]).Node("Expand", ["x", "shape"], ["y"]));
        double[,] j = CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 6), shape, $"Expand-{opset}");
        Assert.AreEqual(24, j.GetLength(0), "output elements");
    }

    [TestMethod]
    public void Expand_ShapeComputedFromShapeOp_ReadsCapturedOutputShape()
    {
        // y = Expand(x [N,2,1,3], Shape(Concat(x, x, x, axis 2))): the shape is a run-time shape path, not a constant.
        int[] shape = [2, 1, 3];
        byte[] model = OneOp(13, shape, b => b.Node("Concat", ["x", "x", "x"], ["w"], OnnxBuilder.Int("axis", 2)).Node("Shape", ["w"], ["s"]).Node("Expand", ["x", "s"], ["y"]));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(5, 6), shape, "Expand to Shape(…)");
    }

    [TestMethod]
    [DataRow(4, 1)]
    [DataRow(13, -1)]
    [DataRow(22, 2)]
    public void Concat_ActivationsAndConstant_SplitsRelevanceConstantGetsNone(int opset, int axis)
    {
        // Concat(x, c, x): x twice (its two blocks sum), a constant block in between.
        int[] cShape = [1, .. Image];
        cShape[axis < 0 ? Image.Length + axis + 1 : axis] = 2;
        byte[] model = OneOp(opset, Image, b => b.Initializer("c", Enumerable.Repeat(0.75f, cShape.Aggregate(1, (p, d) => p * d)).ToArray(), cShape.Select(d => (long)d).ToArray())
            .Node("Concat", ["x", "c", "x"], ["y"], OnnxBuilder.Int("axis", axis)));
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 24), Image, $"Concat-{opset} axis {axis}");
    }

    [TestMethod]
    [DataRow(2)]
    [DataRow(13)]
    [DataRow(18)]
    [DataRow(22)]
    public void Split_AllForms_GathersOutputsBack(int opset)
    {
        // Split W (4) into [1, 2, 1] (attribute before 13, input from 13), or H (3) by num_outputs 3 (18+) into 1, 1, 1;
        // the logits read parts 2 and 0 only, so part 1's elements get nothing.
        byte[] model = OneOp(opset, Image, b =>
        {
            if (opset < 13)
            {
                b.Node("Split", ["x"], ["p0", "p1", "p2"], OnnxBuilder.Int("axis", 3), OnnxBuilder.Ints("split", 1, 2, 1));
            }
            else if (opset < 18)
            {
                b.Int64Initializer("split", [1, 2, 1], [3]).Node("Split", ["x", "split"], ["p0", "p1", "p2"], OnnxBuilder.Int("axis", -1));
            }
            else
            {
                b.Node("Split", ["x"], ["p0", "p1", "p2"], OnnxBuilder.Int("axis", 2), OnnxBuilder.Int("num_outputs", 3));
            }

            // (ONNX Runtime has no Concat before opset 4: there the logits read part 2 alone.)
            _ = opset < 4 ? b.Node("Identity", ["p2"], ["y"]) : b.Node("Concat", ["p2", "p0"], ["y"], OnnxBuilder.Int("axis", opset < 18 ? 3 : 2));
        });
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 24), Image, $"Split-{opset}");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(11)]
    [DataRow(13)]
    [DataRow(22)]
    public void SqueezeUnsqueeze_AttributeAndInputAxes_ReshapeBack(int opset)
    {
        // x [N,2,1,3] → Squeeze(axis 2) → [N,2,3] → Unsqueeze(axes 1, 3) → [N,1,2,1,3]; axes as attributes before 13, inputs from 13.
        int[] shape = [2, 1, 3];
        byte[] model = OneOp(opset, shape, b =>
        {
            if (opset < 13)
            {
                b.Node("Squeeze", ["x"], ["s"], OnnxBuilder.Ints("axes", opset < 11 ? 2 : -2)).Node("Unsqueeze", ["s"], ["y"], OnnxBuilder.Ints("axes", 1, opset < 11 ? 3 : -2));
            }
            else
            {
                b.Int64Initializer("squeeze_axes", [2], [1]).Int64Initializer("unsqueeze_axes", [1, -2], [2])
                    .Node("Squeeze", ["x", "squeeze_axes"], ["s"]).Node("Unsqueeze", ["s", "unsqueeze_axes"], ["y"]);
            }
        });
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 6), shape, $"Squeeze/Unsqueeze-{opset}");
    }
}
