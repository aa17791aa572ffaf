using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// MatMul with N-D operands (constant right or left) and Einsum with one constant operand, as linear layers: ε relevance
/// (bias kept where a MatMul+Add was fused) and gradient against float64 formulas over ORT's Jacobian; products of two
/// activations are refused at load.
/// </summary>
[TestClass]
public sealed class ContractionOpsTests
{
    [TestMethod]
    [DataRow("matmul-3d", 1)]
    [DataRow("matmul-4d-weight-leading-one", 13)]
    [DataRow("matmul-add-3d", 13)]
    [DataRow("matmul-constant-left", 22)]
    [DataRow("einsum-btc,cu->btu", 12)]
    [DataRow("einsum-bchw,oc->bohw", 13)]
    [DataRow("einsum-oc,bcn->bon", 21)]
    [DataRow("einsum-bij,jk", 13)]
    [DataRow("einsum-...c,cu->...u", 22)]
    public void Contraction_EpsilonAndGradientMatchFloat64(string variant, int opset)
    {
        var random = new Random(variant.Length + opset);
        var b = new OnnxBuilder(opset);
        int[] shape;
        string product = "y";
        switch (variant)
        {
            case "matmul-3d":
                shape = [3, 4];
                b.Input("x", "N", 3, 4).Initializer("w", RandomData.Normal(random, 20), [4, 5]).Node("MatMul", ["x", "w"], ["y"]);
                break;
            case "matmul-4d-weight-leading-one":
                shape = [2, 2, 3];
                b.Input("x", "N", 2, 2, 3).Initializer("w", RandomData.Normal(random, 12), [1, 3, 4]).Node("MatMul", ["x", "w"], ["y"]);
                break;
            case "matmul-add-3d":
                // Fused into a Gemm by the canonizer; the bias stays in the ε denominator.
                shape = [3, 4];
                b.Input("x", "N", 3, 4).Initializer("w", RandomData.Normal(random, 20), [4, 5]).Initializer("c", RandomData.Normal(random, 5, 0.5), [5])
                    .Node("MatMul", ["x", "w"], ["m"]).Node("Add", ["m", "c"], ["y"]);
                break;
            case "matmul-constant-left":
                shape = [3, 4];
                b.Input("x", "N", 3, 4).Initializer("w", RandomData.Normal(random, 15), [5, 3]).Node("MatMul", ["w", "x"], ["y"]);
                break;
            default:
                string equation = variant["einsum-".Length..];
                (shape, long[] wShape, bool constantFirst) = equation switch
                {
                    "btc,cu->btu" => (new[] { 3, 4 }, new long[] { 4, 5 }, false),
                    "bchw,oc->bohw" => ([3, 2, 2], [4, 3], false),
                    "oc,bcn->bon" => ([3, 4], [2, 3], true),
                    "bij,jk" => ([2, 3], [3, 4], false),
                    _ => ([2, 2, 3], [3, 2], false),
                };
                b.Input("x", ["N", .. shape.Select(d => (object)(long)d)]).Initializer("w", RandomData.Normal(random, (int)wShape.Aggregate(1L, (p, d) => p * d)), wShape)
                    .Node("Einsum", constantFirst ? ["w", "x"] : ["x", "w"], ["y"], OnnxBuilder.String("equation", equation));
                break;
        }

        byte[] model = b.Node("Flatten", [product], ["out"]).Output("out").ToBytes();
        float[] x = RandomData.Normal(random, shape.Aggregate(1, (p, d) => p * d));
        CoverageHarness.AssertLinearLayer(model, x, shape, CompositePresets.Epsilon(), "epsilon", $"{variant}-{opset}");
    }

    [TestMethod]
    [DataRow("MatMul", "", "outside ClrpMl's CNN scope")]
    [DataRow("Einsum", "bi,bj->bij", "exactly one constant operand")]
    public void ProductOfTwoActivations_RefusedAtLoad(string op, string equation, string reason)
    {
        var b = new OnnxBuilder(13).Input("x", "N", 4).Int64Initializer("s0", [0], [1]).Int64Initializer("e0", [2], [1]).Int64Initializer("s1", [2], [1]).Int64Initializer("e1", [4], [1])
            .Int64Initializer("axis", [1], [1]).Node("Slice", ["x", "s0", "e0", "axis"], ["a"]).Node("Slice", ["x", "s1", "e1", "axis"], ["b"]);
        if (op == "MatMul")
        {
            b.Int64Initializer("shape", [0, 2, 1], [3]).Node("Reshape", ["b", "shape"], ["column"]).Int64Initializer("rshape", [0, 1, 2], [3]).Node("Reshape", ["a", "rshape"], ["row"])
                .Node("MatMul", ["row", "column"], ["p"]).Node("Flatten", ["p"], ["out"]);
        }
        else
        {
            b.Node("Einsum", ["a", "b"], ["p"], OnnxBuilder.String("equation", equation)).Node("Flatten", ["p"], ["out"]);
        }

        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(b.Output("out").ToBytes())));
        StringAssert.Contains(e.Message, reason);
    }

    [TestMethod]
    public void Einsum_WeightsBatchedWithTheActivation_RefusedAtLoad()
    {
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3).Initializer("w", new float[8], [2, 2, 2])
            .Node("Einsum", ["x", "w"], ["y"], OnnxBuilder.String("equation", "bij,bjk->bik")).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "in both operands and the output");
    }
}
