using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The backward step shared by every linear node: the plain gradient <c>Wᵀg</c> in gradient mode, else the node's rule
/// through <see cref="LinearRuleEngine"/>. For CLRP2 the logit layer's dual rows see the target unit's weights and bias
/// negated, as masked algebra: <c>R(W′) = R(W, R⊙(1−m)) + R(−W, R⊙m)</c> with m the one-hot of the negated unit (every rule
/// works unit by unit, so this equals the rule on W′ without a per-class copy of the layer).
/// </summary>
internal static class LinearPropagation
{
    /// <summary>Key suffix of the negated layer's denominators in <see cref="PlanContext.Denominators"/>.</summary>
    public const string NegatedSuffix = "::negated";

    public static RelValue Backward(Node node, string inputName, ILinearKernel kernel, LinearLayer layer, RelValue a, RelValue relevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        if (plan.Mode == PropagationMode.Gradient)
        {
            return alg.Adjoint(kernel, relevance, layer.Weights);
        }

        LinearRule rule = plan.RuleFor(node);
        RuleInputs inputs = InputsFor(inputName, rule, alg, plan);
        IReadOnlyList<RelValue?> z = DenominatorsOf(node, node.Name, rule, kernel, layer, a, inputs, alg, plan);
        if (plan.NegatedLayer != node.Name)
        {
            return LinearRuleEngine.Redistribute(alg, rule, kernel, layer, a, inputs, z, relevance);
        }

        RelValue mask = alg.NegationMask(kernel.OutputShape);
        RelValue kept = alg.Binary(BinaryOp.Multiply, relevance, alg.Binary(BinaryOp.Subtract, alg.Constant([1f], []), mask));
        RelValue negatedPart = alg.Binary(BinaryOp.Multiply, relevance, mask);
        IReadOnlyList<RelValue?> zNegated = DenominatorsOf(node, node.Name + NegatedSuffix, rule, kernel, layer.Negated, a, inputs, alg, plan);
        return alg.Binary(BinaryOp.Add,
            LinearRuleEngine.Redistribute(alg, rule, kernel, layer, a, inputs, z, kept),
            LinearRuleEngine.Redistribute(alg, rule, kernel, layer.Negated, a, inputs, zNegated, negatedPart));
    }

    /// <summary>The bounds and facts the node's rule reads besides its input.</summary>
    public static RuleInputs InputsFor(string inputName, LinearRule rule, IRelevanceAlgebra alg, PlanContext plan)
    {
        bool nonNegative = plan.IsNonNegative(inputName);
        if (rule is not ZBoxRule box)
        {
            return new RuleInputs(null, null, nonNegative);
        }

        BoxBounds? bounds = box.Bounds ?? plan.DefaultBounds;
        RelValue? source = bounds is null && plan.BoundsSource is { } name ? alg.Activation(name) : null;
        return new RuleInputs(bounds, source, nonNegative);
    }

    /// <summary>
    /// Per rule part, the layer's own output where the part is exactly the layer as the model computes it (one identity term,
    /// the bias as the layer has it, the model's own weights, a node the canonizers left alone); else null.
    /// </summary>
    public static string?[] LayerOutputParts(Node? node, LinearRule rule, LinearLayer layer, PlanContext plan) =>
        rule.Parts.Select(part =>
            node is not null && plan.ExactLayers.Contains(node.Name)
            && part.Terms is [{ Input: InputModifier.Identity } only] && ReferenceEquals(only.Weight, WeightTransform.Identity)
            && (part.IncludeBias || layer.Bias is null) && layer.Weights?.Origin is not null
                ? node.Outputs[0]
                : null).ToArray();

    /// <summary>The parts' denominators: the capture run's values where it computed them, else the rule engine's.</summary>
    private static IReadOnlyList<RelValue?> DenominatorsOf(Node node, string key, LinearRule rule, ILinearKernel kernel, LinearLayer layer, RelValue a, RuleInputs inputs, IRelevanceAlgebra alg, PlanContext plan)
    {
        string?[]? captured = plan.Denominators?.GetValueOrDefault(key);
        string?[] computed = captured is { Length: var n } && n == rule.Parts.Count ? captured : LayerOutputParts(node, rule, layer, plan);
        return LinearRuleEngine.Denominators(alg, rule, kernel, layer, a, inputs, computed);
    }
}
