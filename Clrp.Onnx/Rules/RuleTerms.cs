using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Clrp.Onnx.Rules;

/// <summary>How a rule modifies the layer input before a term's forward product (Zennit's input modifiers).</summary>
public enum InputModifier
{
    /// <summary>a</summary>
    Identity,

    /// <summary>a⁺ = max(0, a)</summary>
    Positive,

    /// <summary>a⁻ = min(0, a)</summary>
    Negative,

    /// <summary>1 at every input position (w² and flat rules)</summary>
    Ones,

    /// <summary>−l, the negated lowest input value of the element's channel (z^B)</summary>
    NegatedLowBound,

    /// <summary>−h, the negated highest input value of the element's channel (z^B)</summary>
    NegatedHighBound,
}

/// <summary>
/// How a rule modifies the weights before a term's forward product (Zennit's param modifiers).
/// <see cref="Key"/> identifies the transformed weights in the per-layer cache.
/// </summary>
public sealed class WeightTransform
{
    private readonly Func<float, float> _map;
    private readonly Kind _kind;
    private readonly float _gamma;

    private WeightTransform(string key, Kind kind, Func<float, float> map, float gamma = 0f)
    {
        Key = key;
        _kind = kind;
        _map = map;
        _gamma = gamma;
    }

    private enum Kind
    {
        Identity,
        Positive,
        Negative,
        Square,
        Ones,
        Gamma,
    }

    /// <summary>w</summary>
    public static WeightTransform Identity { get; } = new("w", Kind.Identity, w => w);

    /// <summary>w⁺ = max(0, w)</summary>
    public static WeightTransform Positive { get; } = new("w+", Kind.Positive, w => Math.Max(0f, w));

    /// <summary>w⁻ = min(0, w)</summary>
    public static WeightTransform Negative { get; } = new("w-", Kind.Negative, w => Math.Min(0f, w));

    /// <summary>w²</summary>
    public static WeightTransform Square { get; } = new("w^2", Kind.Square, w => w * w);

    /// <summary>1 for every weight (flat rule)</summary>
    public static WeightTransform Ones { get; } = new("1", Kind.Ones, _ => 1f);

    /// <summary>Cache key, e.g. "w+".</summary>
    public string Key { get; }

    /// <summary>w + γ·w⁺ (γ rule).</summary>
    public static WeightTransform Gamma(float gamma) =>
        new(FormattableString.Invariant($"w+{gamma}w+"), Kind.Gamma, w => w + (gamma * Math.Max(0f, w)), gamma);

    /// <summary>Applies the transform to one weight.</summary>
    public float Apply(float w) => _map(w);

    /// <summary>Applies the transform to every weight of <paramref name="source"/> (SIMD; the same values as <see cref="Apply"/>).</summary>
    internal void ApplyTo(ReadOnlySpan<float> source, Span<float> destination)
    {
        switch (_kind)
        {
            case Kind.Identity:
                source.CopyTo(destination);
                break;
            case Kind.Positive:
                TensorPrimitives.Max(source, 0f, destination);
                break;
            case Kind.Negative:
                TensorPrimitives.Min(source, 0f, destination);
                break;
            case Kind.Square:
                TensorPrimitives.Multiply(source, source, destination);
                break;
            case Kind.Ones:
                destination[..source.Length].Fill(1f);
                break;
            case Kind.Gamma:
                // w + γ·max(0, w), as two roundings like the scalar form (no fused multiply-add).
                TensorPrimitives.Max(source, 0f, destination);
                TensorPrimitives.Multiply(destination, _gamma, destination);
                TensorPrimitives.Add(destination, source, destination);
                break;
            default:
                throw new InvalidOperationException($"unknown weight transform {Key}");
        }
    }

    public override string ToString() => Key;
}

/// <summary>One product <c>modifiedInput ∗ modifiedWeights</c> that a rule sums into its denominator and numerator.</summary>
public sealed record RuleTerm(InputModifier Input, WeightTransform Weight);

/// <summary>
/// A group of terms sharing one denominator:
/// <c>R_in += Coefficient · Σ_t x_t ⊙ ∇(W_t)ᵀ [ R / stab(Σ_t x_t ∗ W_t (+ b)) ]</c>.
/// </summary>
/// <param name="Coefficient">Weight of this part in the sum (α, −β, or 1).</param>
/// <param name="Terms">The products summed into the denominator.</param>
/// <param name="IncludeBias">Whether the layer's bias joins the denominator (only the ε rule).</param>
/// <param name="Stabilizer">ε of <c>stab(d) = d + ε·(d ≥ 0 ? 1 : −1)</c>.</param>
public sealed record RulePart(float Coefficient, IReadOnlyList<RuleTerm> Terms, bool IncludeBias, float Stabilizer);
