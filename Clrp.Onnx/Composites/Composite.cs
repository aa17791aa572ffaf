using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Composites;

/// <summary>The kind of a linear layer as composites see it: Conv (and ConvTranspose) or dense (Gemm, MatMul).</summary>
public enum LinearLayerKind
{
    Conv,
    Dense,
}

/// <summary>Where a linear layer sits: its kind and whether it is the first linear layer reached from the graph input.</summary>
public readonly record struct LayerRole(LinearLayerKind Kind, bool IsFirst);

/// <summary>
/// Which rule each linear layer gets (Zennit's composites). Non-linear operators follow fixed conventions
/// in every composite: Norm on average pools and residual Adds, winner-take-all on MaxPool, pass on activations.
/// </summary>
public sealed class Composite
{
    private readonly Func<LayerRole, LinearRule> _select;

    public Composite(string name, Func<LayerRole, LinearRule> select)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(select);
        Name = name;
        _select = select;
    }

    /// <summary>The preset name ("paper", "epsilon-plus", …).</summary>
    public string Name { get; }

    /// <summary>The rule of parameter-free maps that share relevance in proportion: average pools, reductions, linear resizing, residual sums.</summary>
    public NormRule Norm { get; init; } = new();

    /// <summary>The rule for a layer in <paramref name="role"/>.</summary>
    public LinearRule RuleFor(LayerRole role) => _select(role);

    public override string ToString() => Name;
}
