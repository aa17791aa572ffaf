using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// A long graph (issue 12: 20,000 nodes took over 60 s; the coverage issue owns the speed): the reader, the canonizers,
/// the plan, ONNX Runtime and the walk must get through it and conserve. No time is asserted. Measured on the 2-core
/// machine with a fuzzer running beside: Conv + 10,000 Relus 27 s, Conv + 20,000 Relus 167 s (superlinear: every Relu
/// output is captured), a bare chain of 20,000 Relus `clrp info` 1.4 s and `clrp explain` 5.9 s. CI runs 2,000.
/// </summary>
[TestClass]
public sealed class LongGraphTests
{
    private const int Nodes = 2_000;

    [TestMethod]
    public void Explain_ChainOf2000Nodes_ConservesAndReportsEveryNode()
    {
        var builder = new OnnxBuilder(13).Input("x", "N", 1L, 2L, 2L).Initializer("w", [0.5f, -0.25f, 0.75f, 1f], [1, 1, 2, 2]);
        builder.Node("Conv", ["x", "w"], ["v0"], "conv");
        for (int i = 1; i < Nodes; i++)
        {
            builder.Node("Relu", [$"v{i - 1}"], [$"v{i}"], $"n{i}");
        }

        string model = builder.Node("Flatten", [$"v{Nodes - 1}"], ["y"], "flatten").Output("y").Save();

        ModelReport report = ClrpExplainer.Inspect(model);
        using var explainer = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp });
        Explanation e = explainer.Explain(new Tensor([1f, 2f, 3f, 4f], [1, 1, 2, 2]), 0);

        Assert.HasCount(Nodes + 1, report.Nodes);
        Assert.IsTrue(report.IsSupported);
        Assert.AreEqual(e.Diagnostics[0].SeedSum, e.Diagnostics[0].InputSum, 1e-5 * Math.Abs(e.Diagnostics[0].SeedSum));
    }
}
