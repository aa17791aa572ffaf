using Clrp.Onnx.Canonizers;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Canonizers are pure graph rewrites that leave the model's function unchanged, with ONNX Runtime on the original model
/// as the oracle: constant subgraphs (torch's pads chain, Cast of float16 weights, Unsqueeze/Transpose of constants) fold
/// to constants, shape paths stay relevance-free, and BatchNormalization after Gemm/MatMul (randomised statistics) folds
/// into the layer with its outputs unchanged to 1e-5.
/// </summary>
[TestClass]
public sealed class CanonizerTests
{
    [TestMethod]
    [DataRow(11)]
    [DataRow(13)]
    [DataRow(22)]
    public void FoldConstants_TorchPadChain_FoldsToPadsConstant(int opset)
    {
        // torch's F.pad(x, (1, 2, 0, 1)): [1,2,0,1] ++ zeros(4) → reshape [-1,2] → reverse rows → transpose → flatten → int64.
        var b = new OnnxBuilder(opset).Input("x", "N", 2, 3, 4)
            .ConstantInt64("torch_pads", [1, 2, 0, 1], [4]).ConstantInt64("four", [4], [1])
            .Node("ConstantOfShape", ["four"], ["zeros"], new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxBuilder.Int64Tensor(string.Empty, [0], [1], raw: true) })
            .Node("Concat", ["torch_pads", "zeros"], ["padded"], OnnxBuilder.Int("axis", 0))
            .ConstantInt64("pairs_shape", [-1, 2], [2]).Node("Reshape", ["padded", "pairs_shape"], ["pairs"])
            .ConstantInt64("start", [-1], [1]).ConstantInt64("end", [long.MinValue], [1]).ConstantInt64("axis0", [0], [1]).ConstantInt64("step", [-1], [1])
            .Node("Slice", ["pairs", "start", "end", "axis0", "step"], ["reversed"])
            .Node("Transpose", ["reversed"], ["transposed"], OnnxBuilder.Ints("perm", 1, 0))
            .ConstantInt64("flat_shape", [-1], [1]).Node("Reshape", ["transposed", "flat_shape"], ["onnx_pads"])
            .Node("Cast", ["onnx_pads"], ["pads"], OnnxBuilder.Int("to", 7))
            .Node("Pad", ["x", "pads"], ["y"], OnnxBuilder.String("mode", "reflect"))
            .Node("Flatten", ["y"], ["out"]).Output("out");
        byte[] model = b.ToBytes();

        OnnxGraph original = OnnxModelReader.Read(model, "pad-chain");
        int before = original.Nodes.Count;
        OnnxGraph folded = FoldConstants.Apply(original);
        Assert.AreEqual(before, original.Nodes.Count, "the input graph is not mutated");
        CollectionAssert.AreEqual(new[] { "Pad", "Flatten" }, folded.Nodes.Select(n => n.OpType).ToArray(), "everything but Pad and Flatten folds");
        CollectionAssert.AreEqual(new long[] { 0, 0, 0, 1, 0, 0, 1, 2 }, folded.Constants[folded.Nodes[0].Input(1)].Longs, "ONNX pads");
        CoverageHarness.AssertLinearOp(model, CoverageHarness.AwayFromZero(opset, 24), [2, 3, 4], $"Pad-{opset} with torch's pads chain");
    }

    [TestMethod]
    public void ShapePath_TorchViewFlatten_CarriesNoRelevanceAndExplainsLikeFlatten()
    {
        // x.view(x.size(0), -1) as torch writes it: Shape → Gather(0) → Unsqueeze → Concat([-1]) → Reshape.
        var random = new Random(5);
        float[] w = RandomData.Normal(random, 3 * 2 * 3 * 3, 0.4), fc = RandomData.Normal(random, 4 * 48, 0.2);
        byte[] Model(bool shapePath)
        {
            var b = new OnnxBuilder(13).Input("x", "N", 2, 4, 4).Initializer("w", w, [3, 2, 3, 3]).Initializer("fc", fc, [4, 48])
                .Node("Conv", ["x", "w"], ["c"], OnnxBuilder.Ints("pads", 1, 1, 1, 1)).Node("Relu", ["c"], ["r"]);
            if (shapePath)
            {
                b.Node("Shape", ["r"], ["shape"]).ConstantInt64("zero", [0], []).Node("Gather", ["shape", "zero"], ["n"], OnnxBuilder.Int("axis", 0))
                    .ConstantInt64("axes", [0], [1]).Node("Unsqueeze", ["n", "axes"], ["n1"]).ConstantInt64("minus_one", [-1], [1])
                    .Node("Concat", ["n1", "minus_one"], ["target"], OnnxBuilder.Int("axis", 0)).Node("Reshape", ["r", "target"], ["f"]);
            }
            else
            {
                b.Node("Flatten", ["r"], ["f"]);
            }

            return b.Node("Gemm", ["f", "fc"], ["out"], OnnxBuilder.Int("transB", 1)).Output("out").ToBytes();
        }

        float[] x = RandomData.Normal(random, 2 * 32);
        var options = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.EpsilonPlus() };
        Explanation viaShapePath = ExplainerHarness.Explain(Model(true), x, [2, 2, 4, 4], options, 1);
        Explanation viaFlatten = ExplainerHarness.Explain(Model(false), x, [2, 2, 4, 4], options, 1);
        Compare.Close(viaShapePath.Logits.Data, viaFlatten.Logits.Data, 1e-6, "logits");
        Compare.Close(viaShapePath.Relevance.Data, viaFlatten.Relevance.Data, 1e-6, "relevance");

        ModelReport report = ClrpExplainer.Inspect(ExplainerHarness.Save(Model(true)), options);
        foreach (string op in new[] { "Shape", "Gather", "Unsqueeze", "Concat" })
        {
            Assert.AreEqual("constant (no relevance)", report.Nodes.Single(n => n.Node.OpType == op).Role, $"{op} is on the shape path");
        }
    }

    [TestMethod]
    public void FoldConstants_WeightsBehindCastUnsqueezeTranspose_SameExplanationAsPlainConstants()
    {
        // Conv weights stored as float16 behind a Cast; a per-channel scale behind two Unsqueezes; MatMul weights behind a Transpose.
        var random = new Random(8);
        float[] w = RandomData.Normal(random, 3 * 2 * 3 * 3, 0.4).Select(v => (float)(Half)v).ToArray();
        float[] scale = [0.5f, 2f, -1f];
        float[] fc = RandomData.Normal(random, 48 * 4, 0.2);
        byte[] Model(bool wrapped)
        {
            var b = new OnnxBuilder(13).Input("x", "N", 2, 4, 4);
            if (wrapped)
            {
                var half = new TensorProto { Name = "w16", DataType = (int)TensorProto.Types.DataType.Float16 };
                half.Dims.AddRange([3, 2, 3, 3]);
                half.RawData = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.Select(v => (Half)v).ToArray().AsSpan()));
                b.Node("Constant", [], ["w16"], new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = half })
                    .Node("Cast", ["w16"], ["w"], OnnxBuilder.Int("to", 1))
                    .Initializer("s", scale, [3]).ConstantInt64("a1", [1], [1]).ConstantInt64("a2", [2], [1])
                    .Node("Unsqueeze", ["s", "a1"], ["s1"]).Node("Unsqueeze", ["s1", "a2"], ["scale"])
                    .Initializer("fcT", Transposed(fc, 48, 4), [4, 48]).Node("Transpose", ["fcT"], ["fc"], OnnxBuilder.Ints("perm", 1, 0));
            }
            else
            {
                b.Initializer("w", w, [3, 2, 3, 3]).Initializer("scale", scale, [3, 1, 1]).Initializer("fc", fc, [48, 4]);
            }

            return b.Node("Conv", ["x", "w"], ["c"], OnnxBuilder.Ints("pads", 1, 1, 1, 1)).Node("Mul", ["c", "scale"], ["m"]).Node("Relu", ["m"], ["r"])
                .Node("Flatten", ["r"], ["f"]).Node("MatMul", ["f", "fc"], ["out"]).Output("out").ToBytes();
        }

        float[] x = RandomData.Normal(random, 32);
        var options = new ExplainerOptions { Method = ExplainMethod.Clrp1 };
        Explanation wrapped = ExplainerHarness.Explain(Model(true), x, [1, 2, 4, 4], options, 2);
        Explanation plain = ExplainerHarness.Explain(Model(false), x, [1, 2, 4, 4], options, 2);
        Compare.Close(wrapped.Logits.Data, plain.Logits.Data, 1e-6, "logits");
        Compare.Close(wrapped.TargetRelevance!.Data, plain.TargetRelevance!.Data, 1e-5, "CLRP1 target relevance");
        Compare.Close(wrapped.DualRelevance!.Data, plain.DualRelevance!.Data, 1e-5, "CLRP1 dual relevance");
    }

    [TestMethod]
    [DataRow("gemm-transB", 7)]
    [DataRow("gemm-alpha-beta-row-bias", 13)]
    [DataRow("gemm-no-bias", 22)]
    [DataRow("flatten-matmul", 13)]
    [DataRow("conv", 21)]
    public void FoldBatchNorm_RandomisedStatistics_OutputsUnchangedAndRulesSeeOneLayer(string variant, int opset)
    {
        (byte[] model, int[] shape) = LinearThenBatchNorm(variant, opset, new Random(variant.Length * 13 + opset));
        float[] x = RandomData.Normal(new Random(opset), 2 * shape.Aggregate(1, (p, d) => p * d));
        (float[] expected, _) = OrtOracle.RunOnce(model, x, [2, .. shape]);

        OnnxGraph original = OnnxModelReader.Read(model, variant);
        OnnxGraph folded = FoldBatchNormDense.Apply(FoldBatchNorm.Apply(original));
        Assert.IsFalse(folded.Nodes.Any(n => n.OpType == "BatchNormalization"), $"{variant}: BatchNormalization folded");
        Assert.IsTrue(original.Nodes.Any(n => n.OpType == "BatchNormalization"), $"{variant}: the input graph is not mutated");
        Tensor z = FoldedForward(folded, x, shape);
        Compare.Close(z.Data, expected, 1e-5, $"{variant}: folded layer vs ORT on the original model");

        // The explainer sees one affine layer: ε keeps the folded bias, z⁺ ignores it (float64 over ORT's Jacobian).
        float[] one = x[..shape.Aggregate(1, (p, d) => p * d)];
        CoverageHarness.AssertLinearLayer(model, one, shape, CompositePresets.Epsilon(), "epsilon", $"{variant}-{opset} ε");
        CoverageHarness.AssertLinearLayer(model, one, shape, new Composites.Composite("zplus", _ => new Clrp.Onnx.Rules.ZPlusRule()), "zplus", $"{variant}-{opset} z⁺");
    }

    [TestMethod]
    public void FoldBatchNormDense_MatMulOnThreeDimensionalInput_NotFoldedAndPasses()
    {
        // [N, 4, 4] · W [4, 4] → BatchNormalization over axis 1 (the positions, not the features): folding would be wrong.
        var random = new Random(17);
        byte[] model = new OnnxBuilder(13).Input("x", "N", 4, 4).Initializer("w", RandomData.Normal(random, 16), [4, 4])
            .Node("MatMul", ["x", "w"], ["m"]).WithBatchNorm("m", "bn", 4, random).Node("Flatten", ["bn"], ["out"]).Output("out").ToBytes();
        OnnxGraph folded = FoldBatchNormDense.Apply(OnnxModelReader.Read(model, "3d"));
        Assert.IsTrue(folded.Nodes.Any(n => n.OpType == "BatchNormalization"), "kept");
        float[] x = RandomData.Normal(random, 16);
        Explanation e = CoverageHarness.Lrp(model, x, [1, 4, 4], 3);
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, 4, 4]);
        Compare.Close(e.Logits.Data, y, 1e-6, "logits");
        Assert.IsTrue(e.Relevance.AllFinite(), "explained");
    }

    /// <summary>The folded graph's linear node applied to x (weights and bias as the propagator reads them).</summary>
    private static Tensor FoldedForward(OnnxGraph folded, float[] x, int[] shape)
    {
        Node linear = folded.Nodes.Single(n => n.OpType is "Gemm" or "Conv");
        if (linear.OpType == "Conv")
        {
            using var conv = new ConvPropagator(linear, folded);
            OrtConvKernel kernel = conv.KernelFor(shape[0], shape[1], shape[2]);
            Tensor zc = kernel.Forward(new Tensor(x, [2, .. shape]), conv.Layer.Weights);
            kernel.AddBias(zc, conv.Layer.Bias!);
            return zc;
        }

        var gemm = new GemmPropagator(linear, folded);
        Tensor z = gemm.Kernel.Forward(new Tensor(x, [2, shape.Aggregate(1, (p, d) => p * d)]), gemm.Layer.Weights);
        gemm.Kernel.AddBias(z, gemm.Layer.Bias!);
        return z;
    }

    private static (byte[] Model, int[] Shape) LinearThenBatchNorm(string variant, int opset, Random random)
    {
        var b = new OnnxBuilder(opset);
        int[] shape;
        switch (variant)
        {
            case "gemm-transB":
                shape = [6];
                b.Input("x", "N", 6).Initializer("w", RandomData.Normal(random, 24), [4, 6]).Initializer("c", RandomData.Normal(random, 4), [4])
                    .Node("Gemm", ["x", "w", "c"], ["z"], OnnxBuilder.Int("transB", 1));
                break;
            case "gemm-alpha-beta-row-bias":
                shape = [6];
                b.Input("x", "N", 6).Initializer("w", RandomData.Normal(random, 24), [6, 4]).Initializer("c", RandomData.Normal(random, 4), [1, 4])
                    .Node("Gemm", ["x", "w", "c"], ["z"], OnnxBuilder.Float32("alpha", 0.7f), OnnxBuilder.Float32("beta", -1.3f));
                break;
            case "gemm-no-bias":
                shape = [6];
                b.Input("x", "N", 6).Initializer("w", RandomData.Normal(random, 24), [4, 6]).Node("Gemm", ["x", "w"], ["z"], OnnxBuilder.Int("transB", 1));
                break;
            case "flatten-matmul":
                shape = [2, 3];
                b.Input("x", "N", 2, 3).Initializer("w", RandomData.Normal(random, 24), [6, 4]).Node("Flatten", ["x"], ["f"]).Node("MatMul", ["f", "w"], ["z"]);
                break;
            default:
                shape = [2, 3, 3];
                b.Input("x", "N", 2, 3, 3).Initializer("w", RandomData.Normal(random, 4 * 2 * 2 * 2), [4, 2, 2, 2]).Initializer("c", RandomData.Normal(random, 4), [4])
                    .Node("Conv", ["x", "w", "c"], ["z"]);
                break;
        }

        b.WithBatchNorm("z", "bn", 4, random);
        b.Node("Flatten", ["bn"], ["out"]);
        return (b.Output("out").ToBytes(), shape);
    }

    private static float[] Transposed(float[] m, int rows, int cols) =>
        Enumerable.Range(0, rows * cols).Select(i => m[((i % rows) * cols) + (i / rows)]).ToArray();
}

/// <summary>A BatchNormalization with randomised statistics (scale, shift, mean, positive variance).</summary>
internal static class BatchNormBuilder
{
    public static OnnxBuilder WithBatchNorm(this OnnxBuilder b, string input, string output, int channels, Random random) =>
        b.Initializer(output + "_scale", RandomData.Normal(random, channels), [channels])
            .Initializer(output + "_shift", RandomData.Normal(random, channels, 0.5), [channels])
            .Initializer(output + "_mean", RandomData.Normal(random, channels, 0.5), [channels])
            .Initializer(output + "_var", RandomData.Uniform(random, channels, 0.2, 2.0), [channels])
            .Node("BatchNormalization", [input, output + "_scale", output + "_shift", output + "_mean", output + "_var"], [output], OnnxBuilder.Float32("epsilon", 1e-3f));
}
