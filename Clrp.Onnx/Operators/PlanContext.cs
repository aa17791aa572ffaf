using Clrp.Onnx.Graph;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Operators;

/// <summary>What the walk propagates: LRP relevance (rules) or the plain gradient (Gradient, Gradient⊙Input baselines).</summary>
public enum PropagationMode
{
    /// <summary>Linear layers use their composite's rule; activations pass relevance unchanged.</summary>
    Relevance,

    /// <summary>Every operator passes the exact gradient: linear layers Wᵀg, ReLU masks, pools route.</summary>
    Gradient,
}

/// <summary>
/// Everything a propagator reads that is decided once per explainer (DESIGN §2): the graph, the mode, the rule of every
/// linear layer, the Norm rule, the z^B bounds policy, CLRP2's negated layer, and which rule denominators the forward run
/// already computes. The per-walk state (activations, relevance rows, memory) lives in the <see cref="Algebra.IRelevanceAlgebra"/>
/// interpreter, so the same context serves the managed walk and the compiler. Read-only.
/// </summary>
internal sealed class PlanContext
{
    private readonly Dictionary<string, bool> _nonNegative = new(StringComparer.Ordinal);

    public required OnnxGraph Graph { get; init; }

    public required PropagationMode Mode { get; init; }

    /// <summary>The rule of each linear node, by node name.</summary>
    public required IReadOnlyDictionary<string, LinearRule> Rules { get; init; }

    /// <summary>The rule of average pools, reductions, linear resizing and residual sums.</summary>
    public NormRule Norm { get; init; } = new();

    /// <summary>How residual sums share relevance (<see cref="NormSumPropagator"/>).</summary>
    public Composites.ResidualSharing Residual { get; init; }

    /// <summary>Bounds for z^B rules that carry none themselves; null: each image's own range at <see cref="BoundsSource"/>.</summary>
    public BoxBounds? DefaultBounds { get; init; }

    /// <summary>The value whose per-image range gives z^B bounds when none are given: the first linear layer's input.</summary>
    public string? BoundsSource { get; init; }

    /// <summary>CLRP2: the node whose output unit is negated for dual rows (the logit layer); else null.</summary>
    public string? NegatedLayer { get; init; }

    /// <summary>
    /// Per linear node, the forward values that already hold each rule part's denominator (computed in the capture run),
    /// or null where the walk computes it; keyed by node name (and "name::negated" for CLRP2's negated layer).
    /// </summary>
    public IReadOnlyDictionary<string, string?[]>? Denominators { get; init; }

    /// <summary>
    /// Linear nodes the model computes exactly as the canonized node does (no BatchNorm folded in, no MatMul+Add fused):
    /// a rule part that is the layer itself (ε, LRP-0) reads their output instead of recomputing it, in both engines.
    /// </summary>
    public IReadOnlySet<string> ExactLayers { get; init; } = new HashSet<string>();

    /// <summary>The rule assigned to linear node <paramref name="node"/>.</summary>
    public LinearRule RuleFor(Node node) =>
        Rules.TryGetValue(node.Name, out LinearRule? r) ? r : throw new InvalidOperationException($"no rule assigned to linear node '{node.Name}'.");

    /// <summary>True when <paramref name="value"/> is ≥ 0 by construction (a plan-time fact both interpreters use).</summary>
    public bool IsNonNegative(string value)
    {
        lock (_nonNegative)
        {
            if (!_nonNegative.TryGetValue(value, out bool known))
            {
                _nonNegative[value] = known = DataFlow.IsNonNegative(Graph, value, 0);
            }

            return known;
        }
    }
}
