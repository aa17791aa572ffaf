using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Explaining;

/// <summary>
/// The convolution rules' denominators computed by ONNX Runtime in the capture run (<see cref="ForwardDenominators"/>)
/// give the same maps as the walk's own kernels (issue 6: equal to the pre-optimisation engine to 1e-5 relative), for
/// every composite whose conv rules have graph-computable parts, on plain (VGG), BN-folded residual (ResNet) and
/// depthwise (MobileNet, ReLU6) models, with inputs that make a⁻ terms non-zero at the first layer.
/// </summary>
[TestClass]
public sealed class ForwardDenominatorTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (string model in new[] { "fashion-pair-vgg.onnx", "fashion-pair-resnet.onnx", "fashion-pair-mobilenet.onnx" })
        {
            foreach (string composite in new[] { "paper", "epsilon", "epsilon-plus", "alpha2-beta1", "epsilon-gamma-box" })
            {
                yield return [model, composite];
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MapsEqualThoseWithDenominatorsFromTheWalk(string model, string composite)
    {
        var random = new Random(7);
        var x = new Tensor([.. Enumerable.Range(0, 2 * 64 * 64).Select(_ => (float)((random.NextDouble() * 2) - 0.7))], [2, 1, 64, 64]);
        Composite rules = CompositePresets.ByName(composite);
        foreach (ExplainMethod method in new[] { ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Clrp2 })
        {
            using ClrpExplainer fast = ClrpExplainer.Load(TestPaths.Model(model), new ExplainerOptions { Method = method, Rules = rules });
            using ClrpExplainer plain = ClrpExplainer.Load(TestPaths.Model(model), new ExplainerOptions { Method = method, Rules = rules, DenominatorsInCapture = false });
            Explanation expected = plain.Explain(x, Target.TopK(2));
            Explanation actual = fast.Explain(x, Target.TopK(2));
            double error = Compare.RelativeL2(actual.Relevance.Data, expected.Relevance.Data);
            Assert.IsTrue(error <= 1e-5, $"{model} {composite} {method}: relative L2 {error:E2}");
            if (expected.TargetRelevance is { } raw)
            {
                Assert.IsTrue(Compare.RelativeL2(actual.TargetRelevance!.Data, raw.Data) <= 1e-5, $"{model} {composite} {method}: raw target relevance differs");
            }
        }
    }

    [TestMethod]
    public void EveryConvOfThePaperRulesGetsItsDenominatorFromTheCaptureExceptTheBoxedFirstLayer()
    {
        OnnxGraph graph = OnnxModelReader.Read(TestPaths.Model("fashion-pair-resnet.onnx"));
        using ExplanationPlan plan = ExplanationPlan.Build(graph, null, CompositePresets.Paper(), strict: true);
        ForwardDenominators d = ForwardDenominators.Build(plan);
        string[] convs = [.. plan.WalkNodes.Where(n => n.OpType == "Conv").Select(n => n.Name)];
        Assert.IsFalse(d.ValuesByNode.ContainsKey(plan.FirstLinear!.Name), "z^B needs the box bounds: computed by the walk");
        CollectionAssert.AreEquivalent(convs.Where(c => c != plan.FirstLinear.Name).ToArray(), d.ValuesByNode.Keys.ToArray());
        // Post-ReLU inputs: z⁺ is one Conv with w⁺ per layer, no a⁻ term and no Relu node.
        Assert.AreEqual(convs.Length - 1, d.Nodes.Count(n => n.OpType == "Conv"));
        Assert.AreEqual(0, d.Nodes.Count(n => n.OpType is "Relu" or "Neg"));
    }

    [TestMethod]
    public void TheEpsilonRuleReadsTheLayersOwnOutput()
    {
        OnnxGraph graph = OnnxModelReader.Read(TestPaths.Model("fashion-pair-vgg.onnx"));
        using ExplanationPlan plan = ExplanationPlan.Build(graph, null, CompositePresets.Epsilon(), strict: true);
        ForwardDenominators d = ForwardDenominators.Build(plan);
        Assert.AreEqual(0, d.Nodes.Count, "ε's z = Wa + b is what the graph computes already");
        foreach (Node conv in plan.WalkNodes.Where(n => n.OpType == "Conv"))
        {
            CollectionAssert.AreEqual(new[] { conv.Outputs[0] }, d.ValuesByNode[conv.Name]);
        }
    }

    [TestMethod]
    public void NonNegativityIsOnlyClaimedForValuesThatAreNonNegativeByConstruction()
    {
        OnnxGraph graph = OnnxModelReader.Read(TestPaths.Model("fashion-pair-mobilenet.onnx"));
        using ExplanationPlan plan = ExplanationPlan.Build(graph, null, CompositePresets.Paper(), strict: true);
        Assert.IsFalse(ForwardDenominators.IsNonNegative(plan.Graph, plan.Input.Name, 0), "the image input can be negative");
        foreach (Node node in plan.Graph.Nodes.Where(n => n.OpType is "Relu" or "Clip"))
        {
            Assert.IsTrue(ForwardDenominators.IsNonNegative(plan.Graph, node.Outputs[0], 0), $"{node.Name} ({node.OpType})");
        }

        foreach (Node node in plan.Graph.Nodes.Where(n => n.OpType is "Conv" or "Add"))
        {
            Assert.IsFalse(ForwardDenominators.IsNonNegative(plan.Graph, node.Outputs[0], 0), $"{node.Name} ({node.OpType})");
        }
    }
}
