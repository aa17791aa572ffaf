using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Planning;
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
            var warnings = new List<string>();
            using ClrpExplainer fast = ClrpExplainer.Load(TestPaths.Model(model), new ExplainerOptions { Method = method, Rules = rules, Engine = ExplainerEngine.Managed, Log = warnings.Add });
            using ClrpExplainer plain = ClrpExplainer.Load(TestPaths.Model(model), new ExplainerOptions { Method = method, Rules = rules, Engine = ExplainerEngine.Managed, DenominatorsInCapture = false });
            Explanation expected = plain.Explain(x, Target.TopK(2));
            Explanation actual = fast.Explain(x, Target.TopK(2));
            // CLRP2 with ε on the logit layer: the dual equals the target and the map is float noise (the explainer warns).
            if (!warnings.Any(w => w.Contains("CLRP2 map is ~0", StringComparison.Ordinal)))
            {
                double error = Compare.RelativeL2(actual.Relevance.Data, expected.Relevance.Data);
                Assert.IsTrue(error <= 1e-5, $"{model} {composite} {method}: relative L2 {error:E2}");
            }

            if (expected.TargetRelevance is { } raw)
            {
                Assert.IsTrue(Compare.RelativeL2(actual.TargetRelevance!.Data, raw.Data) <= 1e-5, $"{model} {composite} {method}: raw target relevance differs");
                Assert.IsTrue(Compare.RelativeL2(actual.DualRelevance!.Data, expected.DualRelevance!.Data) <= 1e-5, $"{model} {composite} {method}: raw dual relevance differs");
            }
        }
    }

    [TestMethod]
    public void EveryLinearLayerOfThePaperRulesGetsItsDenominatorFromTheCapture()
    {
        (ExplanationPlan plan, ForwardDenominators d) = Build("fashion-pair-resnet.onnx", CompositePresets.Paper(), ExplainMethod.Lrp);
        using (plan)
        {
            string[] linear = [.. plan.WalkNodes.Where(n => plan.Propagators[n.Name].IsLinear).Select(n => n.Name)];
            CollectionAssert.AreEquivalent(linear, d.ValuesByNode.Keys.ToArray());
            Assert.IsTrue(d.ValuesByNode.Values.All(parts => parts.All(p => p is not null)), "every part of every layer is captured");
            // z^B from each image's own range: the bounds are reduced from the first layer's input in the graph.
            Assert.IsTrue(d.Nodes.Any(n => n.OpType == "ReduceMin") && d.Nodes.Any(n => n.OpType == "ReduceMax"));
            // Post-ReLU inputs: z⁺ is one product with w⁺ per layer, no a⁻ term; Relu nodes only transform weights.
            int convs = plan.WalkNodes.Count(n => n.OpType == "Conv");
            Assert.AreEqual(convs - 1 + 3, d.Nodes.Count(n => n.OpType == "Conv"), "one Conv per z⁺ layer, three for the z^B layer");
            var initializers = new HashSet<string>(plan.Original.Constants.Keys.Concat(d.Initializers.Select(i => i.Name)));
            Assert.IsTrue(d.Nodes.Where(n => n.OpType == "Relu").All(n => initializers.Contains(n.Input[0]) || n.Input[0].StartsWith("clrp::z::", StringComparison.Ordinal)),
                "Relu nodes act on weights, not on activations");
        }
    }

    [TestMethod]
    public void TheEpsilonRuleReadsTheLayersOwnOutput()
    {
        (ExplanationPlan plan, ForwardDenominators d) = Build("fashion-pair-vgg.onnx", CompositePresets.Epsilon(), ExplainMethod.Lrp);
        using (plan)
        {
            Assert.AreEqual(0, d.Nodes.Count, "ε's z = Wa + b is what the graph computes already");
            foreach (Node layer in plan.WalkNodes.Where(n => plan.Propagators[n.Name].IsLinear))
            {
                CollectionAssert.AreEqual(new[] { layer.Outputs[0] }, d.ValuesByNode[layer.Name]);
            }
        }
    }

    [TestMethod]
    public void Clrp2AlsoCapturesTheNegatedLogitLayer()
    {
        (ExplanationPlan plan, ForwardDenominators d) = Build("fashion-pair-vgg.onnx", CompositePresets.Paper(), ExplainMethod.Clrp2);
        using (plan)
        {
            Assert.IsTrue(d.ValuesByNode.ContainsKey(plan.LogitLayer!.Name + Clrp.Onnx.Operators.LinearPropagation.NegatedSuffix));
        }
    }

    [TestMethod]
    public void NonNegativityIsOnlyClaimedForValuesThatAreNonNegativeByConstruction()
    {
        OnnxGraph graph = OnnxModelReader.Read(TestPaths.Model("fashion-pair-mobilenet.onnx"));
        using ExplanationPlan plan = ExplanationPlan.Build(graph, null, CompositePresets.Paper(), strict: true);
        Assert.IsFalse(Clrp.Onnx.Operators.DataFlow.IsNonNegative(plan.Graph, plan.Input.Name, 0), "the image input can be negative");
        foreach (Node node in plan.Graph.Nodes.Where(n => n.OpType is "Relu" or "Clip"))
        {
            Assert.IsTrue(Clrp.Onnx.Operators.DataFlow.IsNonNegative(plan.Graph, node.Outputs[0], 0), $"{node.Name} ({node.OpType})");
        }

        foreach (Node node in plan.Graph.Nodes.Where(n => n.OpType is "Conv" or "Add"))
        {
            Assert.IsFalse(Clrp.Onnx.Operators.DataFlow.IsNonNegative(plan.Graph, node.Outputs[0], 0), $"{node.Name} ({node.OpType})");
        }
    }

    private static (ExplanationPlan Plan, ForwardDenominators Denominators) Build(string model, Composite composite, ExplainMethod method)
    {
        OnnxGraph graph = OnnxModelReader.Read(TestPaths.Model(model));
        ExplanationPlan plan = ExplanationPlan.Build(graph, null, composite, strict: true);
        Dictionary<string, int[]> shapes = ShapeProbe.Run(plan.Original, plan.Input, ShapeProbe.DeclaredImageShape(plan.Input)!, plan.ProbedValues);
        return (plan, ForwardDenominators.Build(plan, PlanContexts.For(plan, method, composite, null), name => shapes[name]));
    }
}
