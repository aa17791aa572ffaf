using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Composites;

/// <summary>The kind of a linear layer as composites see it: Conv (and ConvTranspose) or dense (Gemm, MatMul).</summary>
public enum LinearLayerKind
{
    Conv,
    Dense,
}

/// <summary>
/// How relevance is shared between the two computed operands of a residual sum <c>y = a ± b</c>.
/// </summary>
public enum ResidualSharing
{
    /// <summary>
    /// In proportion to each operand's signed contribution (Zennit's <c>Norm</c> on <c>Sum</c>): <c>R_a = a·R / stab(a ± b)</c>,
    /// <c>R_b = (±b)·R / stab(a ± b)</c>. Exactly conservative, but where the operands nearly cancel (a BatchNorm'd branch
    /// against its shortcut) the shares are large and of opposite signs. The paper's behaviour.
    /// </summary>
    Norm,

    /// <summary>
    /// z⁺ on the sum as a linear layer with unit weights, like every other layer of the paper's composite:
    /// <c>R_a = a⁺·R / stab(a⁺ + (±b)⁺)</c>, <c>R_b = (±b)⁺·R / stab(a⁺ + (±b)⁺)</c>. Shares are non-negative fractions of R,
    /// so no cancelling pair is created; relevance is dropped where both operands are ≤ 0 (as z⁺ drops it on a linear layer).
    /// </summary>
    ZPlus,
}

/// <summary>Where a linear layer sits: its kind and whether it is the first linear layer reached from the graph input.</summary>
public readonly record struct LayerRole(LinearLayerKind Kind, bool IsFirst);

/// <summary>
/// Which rule each linear layer gets (Zennit's composites). Non-linear operators follow fixed conventions
/// in every composite: Norm on average pools and (unless <see cref="Residual"/> says otherwise) residual Adds,
/// winner-take-all on MaxPool, pass on activations.
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

    /// <summary>How residual sums share relevance between their operands (default <see cref="ResidualSharing.Norm"/>).</summary>
    public ResidualSharing Residual { get; init; } = ResidualSharing.Norm;

    /// <summary>The rule for a layer in <paramref name="role"/>.</summary>
    public LinearRule RuleFor(LayerRole role) => _select(role);

    public override string ToString() => Name;
}
