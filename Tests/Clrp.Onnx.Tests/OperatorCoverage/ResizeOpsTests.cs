using Clrp.Onnx.Explaining;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Upsample (7, 9) and Resize (10–21), nearest and linear, scales or sizes, the coordinate transforms and nearest modes:
/// ORT's Jacobian is the oracle — nearest sends each output's relevance and gradient to the element it copied; linear shares
/// relevance as <c>x_i·w_i / Σ x·w</c> and passes the gradient <c>Σ_j w_ij g_j</c>.
/// </summary>
[TestClass]
public sealed class ResizeOpsTests
{
    private static readonly int[] Image = [2, 3, 4];

    [TestMethod]
    [DataRow("Upsample", 7, "nearest", "", "", "1,1,2,2", "")]
    [DataRow("Upsample", 7, "linear", "", "", "1,1,2,2", "")]
    [DataRow("Upsample", 9, "nearest", "", "", "1,1,3,2", "")]
    [DataRow("Upsample", 9, "linear", "", "", "1,1,2,3", "")]
    [DataRow("Resize", 10, "nearest", "", "", "1,1,2,1.5", "")]
    [DataRow("Resize", 10, "linear", "", "", "1,1,2,2", "")]
    [DataRow("Resize", 10, "nearest", "", "", "1,1,0.7,0.5", "")]
    [DataRow("Resize", 11, "linear", "half_pixel", "", "", "1,2,5,7")]
    [DataRow("Resize", 11, "nearest", "align_corners", "round_prefer_ceil", "", "1,2,5,7")]
    [DataRow("Resize", 11, "nearest", "asymmetric", "floor", "1,1,2,2", "")]
    [DataRow("Resize", 13, "linear", "pytorch_half_pixel", "", "1,1,1.5,2.5", "")]
    [DataRow("Resize", 13, "nearest", "tf_half_pixel_for_nn", "ceil", "1,1,2,3", "")]
    [DataRow("Resize", 13, "nearest", "half_pixel", "round_prefer_floor", "1,1,0.6,0.5", "")]
    [DataRow("Resize", 13, "linear", "align_corners", "", "1,1,0.7,0.5", "")]
    [DataRow("Resize", 18, "linear", "half_pixel", "", "2,2", "")]
    [DataRow("Resize", 19, "linear", "half_pixel_symmetric", "", "1,1,1.5,2", "")]
    [DataRow("Resize", 21, "nearest", "", "", "", "1,2,6,8")]
    [DataRow("Resize", 22, "linear", "asymmetric", "", "1,1,2,2", "")]
    public void Resize_NearestRoutesLinearSharesInProportion(string op, int opset, string mode, string transform, string nearestMode, string scales, string sizes)
    {
        float[] scaleValues = Parse(scales, float.Parse);
        long[] sizeValues = Parse(sizes, long.Parse);
        var attributes = new List<AttributeProto> { OnnxBuilder.String("mode", mode) };
        if (transform.Length > 0)
        {
            attributes.Add(OnnxBuilder.String("coordinate_transformation_mode", transform));
        }

        if (nearestMode.Length > 0)
        {
            attributes.Add(OnnxBuilder.String("nearest_mode", nearestMode));
        }

        var b = new OnnxBuilder(opset).Input("x", "N", 2, 3, 4);
        string[] inputs;
        if (op == "Upsample" && opset < 9)
        {
            attributes.Add(OnnxBuilder.Floats("scales", scaleValues));
            inputs = ["x"];
        }
        else if (op == "Upsample" || opset < 11)
        {
            b.Initializer("scales", scaleValues, [scaleValues.Length]);
            inputs = ["x", "scales"];
        }
        else
        {
            if (opset >= 18 && scaleValues.Length == 2)
            {
                attributes.Add(OnnxBuilder.Ints("axes", 2, 3));
            }

            // Resize-11/12 need a (possibly empty) roi and scales when sizes are given; 13+ may leave them out.
            b.Initializer("roi", [], [0]).Initializer("scales", scaleValues, [scaleValues.Length]);
            if (sizeValues.Length > 0)
            {
                b.Int64Initializer("sizes", sizeValues, [sizeValues.Length]);
            }

            inputs = sizeValues.Length > 0 ? (opset < 13 ? ["x", "roi", "scales", "sizes"] : ["x", "", "", "sizes"]) : (opset < 13 ? ["x", "roi", "scales"] : ["x", "", "scales"]);
        }

        byte[] model = b.Node(op, inputs, ["y"], [.. attributes]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        CoverageHarness.AssertLinearOp(model, CoverageHarness.Positive(opset + mode.Length, 24), Image, $"{op}-{opset} {mode} {transform} {nearestMode} [{scales}{sizes}]");
    }

    [TestMethod]
    [DataRow("nearest")]
    [DataRow("linear")]
    public void Resize_SizesComputedFromShape_ReadsCapturedOutputShape(string mode)
    {
        // sizes = Concat(Shape(x)[0:2], [5, 6]): a shape path, not a constant (torch's F.interpolate(size=…) with dynamic axes).
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3, 4).Int64Initializer("start", [0], [1]).Int64Initializer("end", [2], [1]).Int64Initializer("hw", [5, 6], [2])
            .Node("Shape", ["x"], ["shape"]).Node("Slice", ["shape", "start", "end"], ["nc"]).Node("Concat", ["nc", "hw"], ["sizes"], OnnxBuilder.Int("axis", 0))
            .Node("Resize", ["x", "", "", "sizes"], ["y"], OnnxBuilder.String("mode", mode)).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        CoverageHarness.AssertLinearOp(model, CoverageHarness.Positive(3, 24), Image, $"Resize {mode} to computed sizes");
    }

    [TestMethod]
    public void Resize_Cubic_RefusedAtLoad()
    {
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3, 4).Initializer("scales", [1f, 1f, 2f, 2f], [4])
            .Node("Resize", ["x", "", "scales"], ["y"], OnnxBuilder.String("mode", "cubic")).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "cubic");
    }

    private static T[] Parse<T>(string list, Func<string, IFormatProvider, T> parse) =>
        list.Length == 0 ? [] : list.Split(',').Select(v => parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
