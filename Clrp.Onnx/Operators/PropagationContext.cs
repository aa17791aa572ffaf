using Clrp.Onnx.Graph;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

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
/// Everything a propagator may read during one backward walk: the forward activations ([N, …] per
/// value), which image each relevance row belongs to (rows = images × seeds), the rule of each linear
/// layer, the box bounds, and the CLRP2 instruction for the logit layer. Read-only.
/// </summary>
internal sealed class PropagationContext
{
    public required OnnxGraph Graph { get; init; }

    public required IReadOnlyDictionary<string, Tensor> Activations { get; init; }

    /// <summary>For each relevance row, the index of the image it explains.</summary>
    public required int[] RowImage { get; init; }

    public required PropagationMode Mode { get; init; }

    /// <summary>The rule of each linear node, by node name.</summary>
    public required IReadOnlyDictionary<string, LinearRule> Rules { get; init; }

    /// <summary>Bounds for z^B rules that carry none themselves: one entry for all images, or one per image (derived from each input).</summary>
    public IReadOnlyList<BoxBounds>? DefaultBounds { get; init; }

    /// <summary>CLRP2: the node whose output unit is negated for dual rows.</summary>
    public string? NegatedLayer { get; init; }

    /// <summary>CLRP2: for each row, the output unit to negate at <see cref="NegatedLayer"/>, or −1.</summary>
    public int[]? NegatedUnit { get; init; }

    /// <summary>Records step timings when the explainer profiles (<see cref="Explaining.ExplainerOptions.Profile"/>); else null.</summary>
    public Explaining.WalkProfiler? Profiler { get; init; }

    /// <summary>
    /// Where large temporaries come from and go back to (the explainer's pool), so that repeated explanations
    /// reuse memory instead of touching fresh pages; null allocates.
    /// </summary>
    public BufferPool? Pool { get; init; }

    /// <summary>
    /// For Conv nodes whose rule denominators the capture run computed (<see cref="Explaining.ForwardDenominators"/>),
    /// per rule part the activation that holds z_P, or null where the walk computes it.
    /// </summary>
    public IReadOnlyDictionary<string, string?[]>? Denominators { get; init; }

    /// <summary>Number of relevance rows.</summary>
    public int Rows => RowImage.Length;

    /// <summary>The forward value <paramref name="name"/>, [N, …].</summary>
    public Tensor Activation(string name) =>
        Activations.TryGetValue(name, out Tensor? t) ? t : throw new InvalidOperationException($"activation '{name}' was not captured (planner bug).");

    /// <summary>The rule assigned to linear node <paramref name="node"/>.</summary>
    public LinearRule RuleFor(Node node) =>
        Rules.TryGetValue(node.Name, out LinearRule? r) ? r : throw new InvalidOperationException($"no rule assigned to linear node '{node.Name}'.");

    /// <summary>
    /// A zero-filled tensor for relevance a propagator produces, from the explainer's pool: the walker hands every spent
    /// relevance tensor back, so in steady state no explanation allocates fresh large arrays (each would be faulted in
    /// page by page: measured 15× slower max-pool steps on VGG16 once the GC stopped reusing memory).
    /// </summary>
    public Tensor NewTensor(int[] shape) => Pool?.Rent(shape) ?? new Tensor(shape);

    /// <summary>A zero tensor shaped like activation <paramref name="name"/> but with one entry per relevance row.</summary>
    public Tensor ZerosLike(string name) => new([Rows, .. Activation(name).Shape[1..]]);

    /// <summary>Views <paramref name="relevance"/> with the shape of activation <paramref name="name"/> (row axis kept).</summary>
    public Tensor ShapedLike(Tensor relevance, string name) => relevance.Reshape([Rows, .. Activation(name).Shape[1..]]);
}
