namespace Clrp.Onnx.Rules;

/// <summary>
/// An LRP rule for linear layers (Conv, Gemm, MatMul), expressed as a configuration of the generic
/// <see cref="LinearRuleEngine"/>: one or more <see cref="RulePart"/>s, each a sum of modified products
/// with its own stabilised denominator. Every rule is linear in the relevance it receives.
/// </summary>
public abstract class LinearRule
{
    /// <summary>Default stabiliser of every rule other than ε (DESIGN.md §1).</summary>
    public const float DefaultStabilizer = 1e-9f;

    /// <summary>Short name as used by Zennit and the CLI ("epsilon", "zplus", …).</summary>
    public abstract string Name { get; }

    /// <summary>The parts the engine evaluates.</summary>
    public abstract IReadOnlyList<RulePart> Parts { get; }

    public override string ToString() => Name;
}

/// <summary>
/// LRP-ε (LRP-0 when ε → 0): <c>R_i = Σ_j a_i w_ij / stab(z_j) · R_j</c> with <c>z_j = Σ_i a_i w_ij + b_j</c>.
/// The bias stays in the denominator and absorbs its share of relevance. Bach et al. 2015; Zennit <c>Epsilon</c>.
/// Use on dense layers, or everywhere for a gradient×input-like explanation.
/// </summary>
public sealed class EpsilonRule(float epsilon = 1e-6f) : LinearRule
{
    public float Epsilon { get; } = float.IsFinite(epsilon) && epsilon >= 0 ? epsilon : throw new InvalidOptionsException($"ε must be finite and ≥ 0, got {epsilon}.");

    public override string Name => "epsilon";

    public override IReadOnlyList<RulePart> Parts { get; } =
        [new RulePart(1f, [new RuleTerm(InputModifier.Identity, WeightTransform.Identity)], IncludeBias: true, epsilon)];
}

/// <summary>
/// z⁺ (= α1β0): <c>R_i = Σ_j (a_i w_ij)⁺ / stab(Σ_i' (a_i' w_i'j)⁺) · R_j</c>, with <c>(a w)⁺ = a⁺w⁺ + a⁻w⁻</c>;
/// biases ignored. Equals <c>a_i w⁺_ij / Σ a w⁺</c> on non-negative inputs (after ReLU). Montavon et al. 2017;
/// Zennit <c>ZPlus</c>. The paper's rule for every layer but the first.
/// </summary>
public sealed class ZPlusRule(float stabilizer = LinearRule.DefaultStabilizer) : LinearRule
{
    public override string Name => "zplus";

    public override IReadOnlyList<RulePart> Parts { get; } =
    [
        new RulePart(1f, [new RuleTerm(InputModifier.Positive, WeightTransform.Positive), new RuleTerm(InputModifier.Negative, WeightTransform.Negative)], IncludeBias: false, stabilizer),
    ];
}

/// <summary>
/// αβ with α − β = 1: <c>R_i = Σ_j [α (a_i w_ij)⁺ / stab(Σ (a w)⁺) − β (a_i w_ij)⁻ / stab(Σ (a w)⁻)] R_j</c>,
/// <c>(a w)⁺ = a⁺w⁺ + a⁻w⁻</c>, <c>(a w)⁻ = a⁺w⁻ + a⁻w⁺</c>; biases ignored. Bach et al. 2015; Zennit <c>AlphaBeta</c>.
/// </summary>
public sealed class AlphaBetaRule : LinearRule
{
    public AlphaBetaRule(float alpha = 2f, float beta = 1f, float stabilizer = DefaultStabilizer)
    {
        if (Math.Abs(alpha - beta - 1f) > 1e-6f || beta < 0)
        {
            throw new InvalidOptionsException($"the αβ rule needs α − β = 1 and β ≥ 0, got α = {alpha}, β = {beta}.");
        }

        Alpha = alpha;
        Beta = beta;
        Parts =
        [
            new RulePart(alpha, [new RuleTerm(InputModifier.Positive, WeightTransform.Positive), new RuleTerm(InputModifier.Negative, WeightTransform.Negative)], IncludeBias: false, stabilizer),
            new RulePart(-beta, [new RuleTerm(InputModifier.Positive, WeightTransform.Negative), new RuleTerm(InputModifier.Negative, WeightTransform.Positive)], IncludeBias: false, stabilizer),
        ];
    }

    public float Alpha { get; }

    public float Beta { get; }

    public override string Name => FormattableString.Invariant($"alpha{Alpha}-beta{Beta}");

    public override IReadOnlyList<RulePart> Parts { get; }
}

/// <summary>
/// γ rule: <c>R_i = Σ_j a_i (w_ij + γ w⁺_ij) / stab(Σ_i' a_i' (w_i'j + γ w⁺_i'j)) · R_j</c>; biases ignored.
/// Montavon et al. 2019; Zennit <c>Gamma</c> (default γ = 0.25). Favours positive contributions on middle layers.
/// </summary>
public sealed class GammaRule(float gamma = 0.25f, float stabilizer = LinearRule.DefaultStabilizer) : LinearRule
{
    public float Gamma { get; } = float.IsFinite(gamma) && gamma >= 0 ? gamma : throw new InvalidOptionsException($"γ must be finite and ≥ 0, got {gamma}.");

    public override string Name => "gamma";

    public override IReadOnlyList<RulePart> Parts { get; } =
        [new RulePart(1f, [new RuleTerm(InputModifier.Identity, WeightTransform.Gamma(gamma))], IncludeBias: false, stabilizer)];
}

/// <summary>
/// z^B (box) rule for the first layer, whose inputs lie in [l, h] per channel:
/// <c>R_i = Σ_j (a_i w_ij − l_i w⁺_ij − h_i w⁻_ij) / stab(Σ_i' (a_i' w_i'j − l_i' w⁺_i'j − h_i' w⁻_i'j)) · R_j</c>;
/// biases ignored. Montavon et al. 2017; Zennit <c>ZBox</c>. Bounds come from the preprocessing
/// ((0 − mean)/std, (1 − mean)/std); when <see cref="Bounds"/> is null the explainer uses the input's own per-channel range.
/// </summary>
public sealed class ZBoxRule(BoxBounds? bounds = null, float stabilizer = LinearRule.DefaultStabilizer) : LinearRule
{
    /// <summary>Per-channel bounds, or null for "take them from the input being explained".</summary>
    public BoxBounds? Bounds { get; } = bounds;

    public override string Name => "zbox";

    public override IReadOnlyList<RulePart> Parts { get; } =
    [
        new RulePart(1f, [
            new RuleTerm(InputModifier.Identity, WeightTransform.Identity),
            new RuleTerm(InputModifier.NegatedLowBound, WeightTransform.Positive),
            new RuleTerm(InputModifier.NegatedHighBound, WeightTransform.Negative)], IncludeBias: false, stabilizer),
    ];
}

/// <summary>
/// w² rule: <c>R_i = Σ_j w_ij² / stab(Σ_i' w_i'j²) · R_j</c>, independent of the input. Montavon et al. 2017; Zennit <c>WSquare</c>.
/// </summary>
public sealed class WSquareRule(float stabilizer = LinearRule.DefaultStabilizer) : LinearRule
{
    public override string Name => "wsquare";

    public override IReadOnlyList<RulePart> Parts { get; } =
        [new RulePart(1f, [new RuleTerm(InputModifier.Ones, WeightTransform.Square)], IncludeBias: false, stabilizer)];
}

/// <summary>
/// Flat rule: <c>R_i = Σ_j 1 / stab(#{i' in j's receptive field, inside the input}) · R_j</c>: relevance spread
/// uniformly over each output's receptive field, zero padding excluded. Lapuschkin et al. 2019; Zennit <c>Flat</c>.
/// </summary>
public sealed class FlatRule(float stabilizer = LinearRule.DefaultStabilizer) : LinearRule
{
    public override string Name => "flat";

    public override IReadOnlyList<RulePart> Parts { get; } =
        [new RulePart(1f, [new RuleTerm(InputModifier.Ones, WeightTransform.Ones)], IncludeBias: false, stabilizer)];
}

/// <summary>
/// The Norm rule of parameter-free linear maps (average pools, reductions, linear resizing; residual sums use the same
/// stabiliser): <c>R_i = Σ_j x_i w_ij / stab(Σ_i' x_i' w_i'j) · R_j</c>, relevance shared in proportion to each input's
/// contribution (Zennit's <c>Norm</c>, stabiliser 1e-6). Composites carry it as <see cref="Composites.Composite.Norm"/>.
/// </summary>
public sealed class NormRule(float stabilizer = NormRule.DefaultEpsilon) : LinearRule
{
    /// <summary>The stabiliser of the Norm rule (DESIGN §1).</summary>
    public const float DefaultEpsilon = 1e-6f;

    /// <summary>ε of stab(d).</summary>
    public float Stabilizer { get; } = stabilizer;

    public override string Name => "norm";

    public override IReadOnlyList<RulePart> Parts { get; } =
        [new RulePart(1f, [new RuleTerm(InputModifier.Identity, WeightTransform.Identity)], IncludeBias: false, stabilizer)];
}
