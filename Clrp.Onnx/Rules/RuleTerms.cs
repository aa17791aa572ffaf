using Clrp.Onnx.Emitting;
using Clrp.Onnx.Kernels;
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
/// How a rule modifies the weights before a term's forward product (Zennit's param modifiers). One definition per
/// transform, in its two forms: <see cref="ApplyTo"/> over spans (SIMD) and <see cref="Emit"/> as ONNX nodes over a weight
/// tensor, so the managed walk and the compiled graph use the same weights to the last rounding (γ: two roundings in both).
/// <see cref="Key"/> identifies the transformed weights in the per-layer cache.
/// </summary>
public sealed class WeightTransform : IWeightMap
{
    private readonly Kind _kind;
    private readonly float _gamma;

    private WeightTransform(string key, Kind kind, float gamma = 0f)
    {
        Key = key;
        _kind = kind;
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
        Negate,
    }

    /// <summary>w</summary>
    public static WeightTransform Identity { get; } = new("w", Kind.Identity);

    /// <summary>w⁺ = max(0, w)</summary>
    public static WeightTransform Positive { get; } = new("w+", Kind.Positive);

    /// <summary>w⁻ = min(0, w)</summary>
    public static WeightTransform Negative { get; } = new("w-", Kind.Negative);

    /// <summary>w²</summary>
    public static WeightTransform Square { get; } = new("w^2", Kind.Square);

    /// <summary>1 for every weight (flat rule)</summary>
    public static WeightTransform Ones { get; } = new("1", Kind.Ones);

    /// <summary>−w (CLRP2's dual: the logit layer with the target's weights negated).</summary>
    internal static WeightTransform Negate { get; } = new("-w", Kind.Negate);

    /// <summary>Cache key, e.g. "w+".</summary>
    public string Key { get; }

    /// <summary>w + γ·w⁺ (γ rule).</summary>
    public static WeightTransform Gamma(float gamma) =>
        new(FormattableString.Invariant($"w+{gamma}w+"), Kind.Gamma, gamma);

    /// <summary>Applies the transform to every weight of <paramref name="source"/> (SIMD).</summary>
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
                // w + γ·max(0, w), as two roundings (no fused multiply-add), as Emit writes it.
                TensorPrimitives.Max(source, 0f, destination);
                TensorPrimitives.Multiply(destination, _gamma, destination);
                TensorPrimitives.Add(destination, source, destination);
                break;
            case Kind.Negate:
                TensorPrimitives.Negate(source, destination);
                break;
            default:
                throw new InvalidOperationException($"unknown weight transform {Key}");
        }
    }

    /// <summary>The same transform as ONNX nodes over the weight tensor <paramref name="weights"/> (ONNX Runtime folds them at load).</summary>
    internal string Emit(OnnxEmitter emitter, string weights) => _kind switch
    {
        Kind.Identity => weights,
        Kind.Positive => emitter.Node("Relu", [weights]),
        Kind.Negative => emitter.Node("Neg", [emitter.Node("Relu", [emitter.Node("Neg", [weights])])]),
        Kind.Square => emitter.Node("Mul", [weights, weights]),
        // 0·w + 1: exact for finite weights, and keeps the weights' shape without a shape input.
        Kind.Ones => emitter.Node("Add", [emitter.Node("Mul", [weights, emitter.Scalar(0f)]), emitter.Scalar(1f)]),
        Kind.Gamma => emitter.Node("Add", [emitter.Node("Mul", [emitter.Node("Relu", [weights]), emitter.Scalar(_gamma)]), weights]),
        Kind.Negate => emitter.Node("Neg", [weights]),
        _ => throw new InvalidOperationException($"unknown weight transform {Key}"),
    };

    void IWeightMap.ApplyTo(ReadOnlySpan<float> source, Span<float> destination) => ApplyTo(source, destination);

    string IWeightMap.Emit(OnnxEmitter emitter, string weights) => Emit(emitter, weights);

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
