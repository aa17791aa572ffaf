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
/// ConvTranspose as a linear layer: the kernel's forward (the adjoint of a convolution) reproduces ONNX Runtime across
/// strides, pads, output_padding, dilations, groups, output_shape and auto_pad; in the explainer it counts as "Conv"
/// (z⁺ in epsilon-plus) and its ε/z⁺ relevance and gradient match float64 formulas over ORT's Jacobian.
/// </summary>
[TestClass]
public sealed class ConvTransposeTests
{
    [TestMethod]
    [DataRow("stride2", 1, 2, 3, 3, 3, 3, 1, "strides=2,2")]
    [DataRow("pads-output-padding", 11, 2, 3, 4, 2, 3, 1, "strides=2,2;pads=1,0,1,1;output_padding=1,0")]
    [DataRow("dilation-asymmetric", 13, 3, 4, 3, 2, 2, 1, "strides=1,2;dilations=2,1;pads=0,1,1,0")]
    [DataRow("group2", 17, 4, 3, 3, 6, 3, 2, "strides=2,1;pads=1,1,1,1")]
    [DataRow("depthwise", 21, 3, 4, 4, 3, 2, 3, "strides=2,2")]
    [DataRow("output-shape", 13, 2, 3, 3, 3, 3, 1, "strides=2,2;output_shape=6,7")]
    [DataRow("same-upper", 21, 2, 3, 4, 2, 3, 1, "strides=2,2;auto_pad=SAME_UPPER")]
    [DataRow("same-lower", 21, 2, 3, 4, 2, 3, 1, "strides=2,2;auto_pad=SAME_LOWER")]
    [DataRow("valid", 22, 2, 3, 3, 2, 3, 1, "strides=3,2;auto_pad=VALID")]
    public void Kernel_Forward_MatchesOnnxRuntime(string name, int opset, int inC, int h, int w, int outC, int k, int group, string settings)
    {
        (byte[] model, float[] x) = Build(opset, inC, h, w, outC, k, group, settings, flatten: false);
        (float[] expected, int[] expectedShape) = OrtOracle.RunOnce(model, x, [2, inC, h, w]);

        OnnxGraph graph = OnnxModelReader.Read(model, name);
        using var propagator = new ConvTransposePropagator(graph.Nodes.Single(n => n.OpType == "ConvTranspose"), graph);
        ConvTransposeKernel kernel = propagator.KernelFor(h, w);
        Tensor z = kernel.Forward(new Tensor(x, [2, inC, h, w]), propagator.Layer.Weights);
        kernel.AddBias(z, propagator.Layer.Bias!);
        CollectionAssert.AreEqual(expectedShape, z.Shape, $"{name}: output shape");
        Compare.Close(z.Data, expected, 1e-5, $"{name}: ConvTransposeKernel.Forward vs ORT");
    }

    [TestMethod]
    [DataRow(7, "epsilon")]
    [DataRow(22, "epsilon")]
    [DataRow(13, "zplus")]
    public void InExplainer_CountsAsConvAndMatchesFloat64Rule(int opset, string rule)
    {
        (byte[] model, float[] x) = Build(opset, 2, 2, 3, 2, 3, 1, "strides=2,2;pads=1,1,0,1;output_padding=1,0", flatten: true);
        x = x[..12];
        var composite = rule == "epsilon" ? CompositePresets.Epsilon() : CompositePresets.EpsilonPlus();
        CoverageHarness.AssertLinearLayer(model, x, [2, 2, 3], composite, rule, $"ConvTranspose-{opset} {rule}");

        ModelReport report = ClrpExplainer.Inspect(ExplainerHarness.Save(model), new ExplainerOptions { Rules = composite });
        StringAssert.StartsWith(report.Nodes.Single(n => n.Node.OpType == "ConvTranspose").Role, $"rule {(rule == "epsilon" ? "epsilon" : "zplus")}");
    }

    /// <summary>x [N, inC, h, w] → ConvTranspose(W [inC, outC/group, k, k], B) (→ Flatten), and two random images.</summary>
    private static (byte[] Model, float[] X) Build(int opset, int inC, int h, int w, int outC, int k, int group, string settings, bool flatten)
    {
        var random = new Random(opset * 7 + inC + k);
        float[] weights = RandomData.Normal(random, inC * (outC / group) * k * k);
        float[] bias = RandomData.Normal(random, outC, 0.3);
        var attributes = new List<AttributeProto> { OnnxBuilder.Int("group", group), OnnxBuilder.Ints("kernel_shape", k, k) };
        foreach (string[] pair in settings.Split(';').Select(p => p.Split('=')))
        {
            attributes.Add(pair[0] == "auto_pad" ? OnnxBuilder.String(pair[0], pair[1]) : OnnxBuilder.Ints(pair[0], pair[1].Split(',').Select(long.Parse).ToArray()));
        }

        var b = new OnnxBuilder(opset).Input("x", "N", inC, h, w).Initializer("w", weights, [inC, outC / group, k, k]).Initializer("b", bias, [outC])
            .Node("ConvTranspose", ["x", "w", "b"], [flatten ? "y" : "out"], [.. attributes]);
        if (flatten)
        {
            b.Node("Flatten", ["y"], ["out"]);
        }

        return (b.Output("out").ToBytes(), RandomData.Normal(random, 2 * inC * h * w));
    }
}
