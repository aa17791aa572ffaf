using Clrp.Onnx.Composites;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Explaining;

/// <summary>The one place an explainer's options become the <see cref="PlanContext"/> both engines walk with.</summary>
internal static class PlanContexts
{
    /// <param name="plan">The plan.</param>
    /// <param name="method">The method (gradient methods walk the plain gradient).</param>
    /// <param name="composite">The rules (and the Norm rule).</param>
    /// <param name="bounds">z^B bounds given as options; null: each image's range at the first linear layer's input.</param>
    /// <param name="denominators">Rule denominators the capture run computes (managed engine), or null.</param>
    public static PlanContext For(ExplanationPlan plan, ExplainMethod method, Composite composite, BoxBounds? bounds, IReadOnlyDictionary<string, string?[]>? denominators = null) => new()
    {
        Graph = plan.Graph,
        Mode = method.IsGradient() ? PropagationMode.Gradient : PropagationMode.Relevance,
        Rules = plan.Rules,
        Norm = composite.Norm,
        Residual = composite.Residual,
        DefaultBounds = bounds,
        BoundsSource = plan.FirstLinear?.Input(0),
        NegatedLayer = method == ExplainMethod.Clrp2 ? plan.LogitLayer?.Name : null,
        Denominators = denominators,
        ExactLayers = plan.WalkNodes.Where(n => plan.Propagators.TryGetValue(n.Name, out IOperatorPropagator? p) && p.IsLinear && plan.IsUnchangedByCanonizers(n))
            .Select(n => n.Name).ToHashSet(StringComparer.Ordinal),
    };
}
