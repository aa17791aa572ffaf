using Clrp.Onnx.Planning;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// What is not supported fails at load, not mid-walk, with the node, op, domain, opset, the reason and the nearest
/// supported alternative: recurrent ops, convolutions over more than 3 spatial axes, unknown ops, ONNX Runtime's com.microsoft fused ops.
/// </summary>
[TestClass]
public sealed class UnsupportedOpsTests
{
    [TestMethod]
    public void RecurrentOp_RefusedAtLoadAsRecurrent()
    {
        byte[] model = new OnnxBuilder(13).Input("x", 5, "N", 3).Initializer("w", new float[4 * 3 * 4], [1, 16, 3]).Initializer("r", new float[16 * 4], [1, 16, 4])
            .Node("LSTM", ["x", "w", "r"], ["", "h"], "lstm", OnnxBuilder.Int("hidden_size", 4)).Node("Squeeze", ["h"], ["out"]).Output("out").ToBytes();
        UnsupportedOperatorException e = LoadFails(model);
        Assert.AreEqual("LSTM", e.OpType);
        StringAssert.Contains(e.Message, "recurrent ops are not supported yet");
        StringAssert.Contains(e.Message, "node 'lstm'");
        StringAssert.Contains(e.Message, "opset 13");
    }

    [TestMethod]
    public void ConvolutionOverFourSpatialAxes_RefusedAtLoad()
    {
        long[] w = [3, 2, 2, 2, 2, 2];
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 4, 4, 4, 4).Initializer("w", new float[w.Aggregate(1L, (p, d) => p * d)], w)
            .Node("Conv", ["x", "w"], ["c"], "conv4d").Node("Flatten", ["c"], ["out"]).Output("out").ToBytes();
        UnsupportedOperatorException e = LoadFails(model);
        StringAssert.Contains(e.Message, "node 'conv4d'");
        StringAssert.Contains(e.Message, "1-D, 2-D and 3-D convolutions (float weights of rank 3, 4 or 5) are supported");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void ConvolutionOneAndThreeD_Loads(int spatialRank)
    {
        long[] w = [3, 2, .. Enumerable.Repeat(2L, spatialRank)];
        byte[] model = new OnnxBuilder(13).Input("x", ["N", 2L, .. Enumerable.Repeat<object>(4L, spatialRank)]).Initializer("w", new float[w.Aggregate(1L, (p, d) => p * d)], w)
            .Node("Conv", ["x", "w"], ["c"]).Node("Flatten", ["c"], ["out"]).Output("out").ToBytes();
        ModelReport report = ClrpExplainer.Inspect(ExplainerHarness.Save(model));
        Assert.IsTrue(report.Nodes.All(n => n.Supported), string.Join("; ", report.Nodes.Select(n => n.Role)));
    }

    [TestMethod]
    [DataRow("ThresholdedRelu", "Relu")]
    [DataRow("GlobalLpPool", "GlobalAveragePool")]
    public void UnknownOp_MessageNamesNearestSupportedAlternative(string op, string alternative)
    {
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3, 3).Initializer("s", [1f, 1f], [2]).Initializer("b", [0f, 0f], [2])
            .Node(op, op == "InstanceNormalization" ? ["x", "s", "b"] : ["x"], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        UnsupportedOperatorException e = LoadFails(model);
        StringAssert.Contains(e.Message, $"Nearest supported alternative: {alternative}");
    }

    [TestMethod]
    public void MicrosoftFusedConv_NamedAsOrtCustomDomainWithAlternative()
    {
        ModelProto model = new OnnxBuilder(13).Input("x", "N", 2, 3, 3).Initializer("w", new float[3 * 2 * 9], [3, 2, 3, 3])
            .Node("FusedConv", ["x", "w"], ["y"], "fused", OnnxBuilder.String("activation", "Relu")).Node("Flatten", ["y"], ["out"]).Output("out").Build();
        model.Graph.Node[0].Domain = "com.microsoft";
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        UnsupportedOperatorException e = LoadFails(Google.Protobuf.MessageExtensions.ToByteArray(model));
        Assert.AreEqual("com.microsoft", e.Domain);
        StringAssert.Contains(e.Message, "com.microsoft::FusedConv");
        StringAssert.Contains(e.Message, "graph optimiser");
        StringAssert.Contains(e.Message, "Nearest supported alternative: Conv followed by its activation");
    }

    [TestMethod]
    public void Inspect_UnsupportedOp_ReportedWithReasonWithoutThrowing()
    {
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3, 3).Node("ThresholdedRelu", ["x"], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        ModelReport report = ClrpExplainer.Inspect(ExplainerHarness.Save(model));
        NodeReport node = report.Nodes.Single(n => n.Node.OpType == "ThresholdedRelu");
        Assert.IsFalse(node.Supported);
        StringAssert.Contains(node.Role, "Nearest supported alternative");
    }

    private static UnsupportedOperatorException LoadFails(byte[] model) =>
        Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
}
