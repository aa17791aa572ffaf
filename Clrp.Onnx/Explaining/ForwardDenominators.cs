using Clrp.Onnx.Algebra;
using Clrp.Onnx.Emitting;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// The managed engine's rule denominators, computed by ONNX Runtime in the capture run instead of by kernel sessions
/// during the walk: the emitting half of <see cref="LinearRuleEngine"/>. For every linear node on the walk, the rule
/// engine's <see cref="LinearRuleEngine.Denominators"/> runs once over the <see cref="EmittingAlgebra"/>, which turns
/// <c>z_P = Σ_{t∈P} m_t(a) ∗ W_t (+ b)</c> into nodes added to the runtime graph (a⁺ = Relu(a), transformed weights as
/// nodes over the model's own initializers, box bounds from the first layer's input). The walk then reads those values
/// where it would have computed them, through the same algorithm, so the two cannot drift. A part that is exactly the
/// layer (ε and LRP-0 on a layer the canonizers left as it is) reads the layer's own output, in both engines (<see cref="LinearPropagation.LayerOutputParts"/>).
/// </summary>
internal sealed class ForwardDenominators
{
    private ForwardDenominators(Dictionary<string, string?[]> byNode, List<NodeProto> nodes, List<TensorProto> initializers)
    {
        ValuesByNode = byNode;
        Nodes = nodes;
        Initializers = initializers;
    }

    /// <summary>For each linear node (and "name::negated" for CLRP2), per rule part, the captured value that holds z_P, or null.</summary>
    public IReadOnlyDictionary<string, string?[]> ValuesByNode { get; }

    /// <summary>The values to capture.</summary>
    public IEnumerable<string> Values => ValuesByNode.Values.SelectMany(v => v).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>Nodes to add to the runtime graph.</summary>
    public IReadOnlyList<NodeProto> Nodes { get; }

    /// <summary>Initializers to add to the runtime graph.</summary>
    public IReadOnlyList<TensorProto> Initializers { get; }

    /// <summary>None: every denominator is computed by the walk (gradient methods, shapes unknown, or switched off).</summary>
    public static ForwardDenominators None { get; } = new([], [], []);

    /// <summary>Emits the denominators of every linear node of <paramref name="plan"/> under <paramref name="context"/>'s rules.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="context">Rules, bounds policy and CLRP2's negated layer.</param>
    /// <param name="shapeOf">The per-image shape of every value on the walk.</param>
    public static ForwardDenominators Build(ExplanationPlan plan, PlanContext context, Func<string, int[]> shapeOf)
    {
        if (plan.Opset < OnnxEmitter.MinimumOpset)
        {
            return None; // nodes cannot be added to so old a graph: the walk computes every denominator
        }

        var emitter = new OnnxEmitter(plan.Opset, plan.ModelValueNames, prefix: "clrp::z::");
        var alg = new EmittingAlgebra(emitter, new EmittingContext { ShapeOf = shapeOf, IsModelConstant = plan.IsModelConstant });
        var byNode = new Dictionary<string, string?[]>(StringComparer.Ordinal);
        foreach (Node node in plan.WalkNodes)
        {
            if (plan.Propagators.GetValueOrDefault(node.Name) is not ILinearPropagator linear || !context.Rules.TryGetValue(node.Name, out LinearRule? rule))
            {
                continue;
            }

            RelValue a = alg.Activation(linear.InputName);
            (Kernels.ILinearKernel kernel, LinearLayer layer) = linear.KernelFor(a.RowShape);
            RuleInputs inputs = LinearPropagation.InputsFor(linear.InputName, rule, alg, context);
            byNode[node.Name] = Names(LinearRuleEngine.Denominators(alg, rule, kernel, layer, a, inputs, LinearPropagation.LayerOutputParts(node, rule, layer, context)));
            if (context.NegatedLayer == node.Name)
            {
                byNode[node.Name + LinearPropagation.NegatedSuffix] = Names(LinearRuleEngine.Denominators(alg, rule, kernel, layer.Negated, a, inputs));
            }
        }

        return new ForwardDenominators(byNode, emitter.Nodes, emitter.Initializers);
    }

    private static string?[] Names(RelValue?[] denominators) => Array.ConvertAll(denominators, z => z is null ? null : EmittingAlgebra.NameOf(z));
}
