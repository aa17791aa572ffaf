using Clrp.Onnx.Algebra;
using Clrp.Onnx.Kernels;

namespace Clrp.Onnx.Rules;

/// <summary>
/// What a rule's input modifiers need besides the layer input a: the z^B box bounds and what the plan knows of a.
/// </summary>
/// <param name="Bounds">Given bounds (options or the composite's rule), or null to take each image's own range.</param>
/// <param name="BoundsSource">Where per-image bounds come from when none are given: the first linear layer's input (DESIGN §1).</param>
/// <param name="InputNonNegative">True when a ≥ 0 by construction (after ReLU, pools of it, …): a⁺ = a and a⁻ = 0 without looking at the data.</param>
internal sealed record RuleInputs(BoxBounds? Bounds, RelValue? BoundsSource, bool InputNonNegative)
{
    /// <summary>For rules that read nothing beyond a.</summary>
    public static RuleInputs None { get; } = new(null, null, false);
}

/// <summary>
/// Applies any <see cref="LinearRule"/> to any <see cref="ILinearKernel"/> (Zennit's BasicHook), written once over the
/// <see cref="IRelevanceAlgebra"/> so that the managed walk and the compiled graph run the same algorithm. For each part P:
/// <code>
///   z_P  = Σ_{t∈P} m_t(a) ∗ W_t  (+ b if P includes the bias)         — Denominators: per image, a forward quantity
///   s    = R / stab(z_P)                                               — per relevance row (seed)
///   R_in += coef_P · Σ_{t∈P} m_t(a) ⊙ (W_tᵀ s)                         — Redistribute
/// </code>
/// Relevance rows are a batch of seeds: every seed of an image shares the forward products and the transformed weights.
/// Terms whose modified input is known to vanish (a⁻ of a non-negative input, zero box bounds) are skipped by both
/// interpreters alike.
/// </summary>
internal static class LinearRuleEngine
{
    /// <summary>
    /// The denominators z_P of every part (null for a part none of whose terms is live): per image. Parts whose value the
    /// forward run already computed (<paramref name="computed"/>: the value's name, or null) are read, not recomputed.
    /// </summary>
    public static RelValue?[] Denominators(IRelevanceAlgebra alg, LinearRule rule, ILinearKernel kernel, LinearLayer layer, RelValue a, RuleInputs inputs, IReadOnlyList<string?>? computed = null)
    {
        var result = new RelValue?[rule.Parts.Count];
        for (int p = 0; p < rule.Parts.Count; p++)
        {
            if (computed?[p] is string name)
            {
                result[p] = alg.Activation(name);
                continue;
            }

            RulePart part = rule.Parts[p];
            RelValue? z = null;
            foreach (RuleTerm term in part.Terms)
            {
                if (ModifyInput(alg, a, term.Input, inputs) is not RelValue x)
                {
                    continue;
                }

                RelValue zt = alg.Forward(kernel, x, layer.Transformed(term.Weight));
                z = z is null ? zt : alg.Binary(BinaryOp.Add, z, zt);
            }

            if (z is not null && part.IncludeBias && layer.Bias is not null)
            {
                z = alg.AddBias(kernel, z, layer.Bias);
            }

            result[p] = z;
        }

        return result;
    }

    /// <summary>The input relevance given the parts' denominators (from <see cref="Denominators"/> or computed ahead, e.g. in the capture run).</summary>
    public static RelValue Redistribute(IRelevanceAlgebra alg, LinearRule rule, ILinearKernel kernel, LinearLayer layer, RelValue a, RuleInputs inputs, IReadOnlyList<RelValue?> denominators, RelValue relevance)
    {
        RelValue? result = null;
        for (int p = 0; p < rule.Parts.Count; p++)
        {
            if (denominators[p] is not RelValue z)
            {
                continue; // every term vanished: this part contributes nothing
            }

            RulePart part = rule.Parts[p];
            RelValue s = alg.DivideStabilized(relevance, z, part.Stabilizer, DenominatorSign(part, inputs));
            foreach (RuleTerm term in part.Terms)
            {
                if (ModifyInput(alg, a, term.Input, inputs) is not RelValue x)
                {
                    continue;
                }

                RelValue contribution = alg.Binary(BinaryOp.Multiply, alg.Adjoint(kernel, s, layer.Transformed(term.Weight)), x);
                if (part.Coefficient != 1f)
                {
                    contribution = alg.Binary(BinaryOp.Multiply, contribution, alg.Constant([part.Coefficient], []));
                }

                result = result is null ? contribution : alg.Binary(BinaryOp.Add, result, contribution);
            }
        }

        return result ?? alg.Zeros(kernel.InputShape);
    }

    /// <summary><see cref="Denominators"/> then <see cref="Redistribute"/>.</summary>
    public static RelValue Propagate(IRelevanceAlgebra alg, LinearRule rule, ILinearKernel kernel, LinearLayer layer, RelValue a, RuleInputs inputs, RelValue relevance) =>
        Redistribute(alg, rule, kernel, layer, a, inputs, Denominators(alg, rule, kernel, layer, a, inputs), relevance);

    /// <summary>
    /// The sign a part's denominator has by construction: +1 when every live term is a product of two non-negative or two
    /// non-positive factors (z⁺ and α: a⁺w⁺ + a⁻w⁻; w²; flat), −1 when every one is of mixed signs (β: a⁺w⁻ + a⁻w⁺), else 0.
    /// </summary>
    internal static int DenominatorSign(RulePart part, RuleInputs inputs)
    {
        int sign = 0;
        foreach (RuleTerm term in part.Terms)
        {
            int input = term.Input switch
            {
                InputModifier.Positive or InputModifier.Ones => 1,
                InputModifier.Identity when inputs.InputNonNegative => 1,
                InputModifier.Negative => inputs.InputNonNegative ? 0 : -1, // a⁻ of a non-negative input: the term is skipped
                _ => 2,
            };
            int weight = ReferenceEquals(term.Weight, WeightTransform.Positive) || ReferenceEquals(term.Weight, WeightTransform.Square) || ReferenceEquals(term.Weight, WeightTransform.Ones) ? 1
                : ReferenceEquals(term.Weight, WeightTransform.Negative) ? -1
                : 2;
            if (input == 0)
            {
                continue;
            }

            if (input == 2 || weight == 2)
            {
                return 0;
            }

            int termSign = input * weight;
            if (sign != 0 && termSign != sign)
            {
                return 0;
            }

            sign = termSign;
        }

        return sign;
    }

    /// <summary><c>stab(d) = d + ε·(d ≥ 0 ? 1 : −1)</c>.</summary>
    public static float Stabilize(float d, float epsilon) => d + (d >= 0 ? epsilon : -epsilon);

    /// <summary>
    /// The modified input m(a): a, a⁺, a⁻, ones, or the negated per-channel box bounds; null when it is known to vanish
    /// (a⁻ of a non-negative input, bounds of 0).
    /// </summary>
    internal static RelValue? ModifyInput(IRelevanceAlgebra alg, RelValue a, InputModifier modifier, RuleInputs inputs)
    {
        RelValue? x = modifier switch
        {
            InputModifier.Identity => a,
            InputModifier.Positive => inputs.InputNonNegative ? a : alg.Unary(UnaryOp.Relu, a),
            InputModifier.Negative => inputs.InputNonNegative ? null : alg.Unary(UnaryOp.Negate, alg.Unary(UnaryOp.Relu, alg.Unary(UnaryOp.Negate, a))),
            InputModifier.Ones => alg.BroadcastTo(alg.Constant([1f], []), a.RowShape),
            InputModifier.NegatedLowBound or InputModifier.NegatedHighBound => NegatedBound(alg, a, modifier == InputModifier.NegatedLowBound, inputs),
            _ => throw new ArgumentOutOfRangeException(nameof(modifier)),
        };
        return x is not null && alg.IsKnownZero(x) ? null : x;
    }

    /// <summary>−l or −h per channel (axis 0 of a's row for images [C, …]; one value for flat inputs), broadcast to a's shape.</summary>
    private static RelValue NegatedBound(IRelevanceAlgebra alg, RelValue a, bool low, RuleInputs inputs)
    {
        int rank = a.RowShape.Length;
        if (inputs.Bounds is { } b)
        {
            int channels = rank >= 1 ? a.RowShape[0] : 1;
            if (b.Low.Length != 1 && b.Low.Length != channels)
            {
                throw new InvalidOptionsException($"box bounds have {b.Low.Length} values; the first linear layer's input {a.ShapeText} (per image) has {channels} channels (give one value or one per channel).");
            }

            float[] values = Enumerable.Range(0, channels).Select(c => -(low ? b.LowFor(c) : b.HighFor(c))).ToArray();
            int[] perChannel = [channels, .. Enumerable.Repeat(1, Math.Max(0, rank - 1))];
            return alg.BroadcastTo(alg.Constant(values, perChannel), a.RowShape);
        }

        // Each image's own range (BoxBounds.FromData): per channel for [C, …] rows, one value over all features of flat rows.
        RelValue source = inputs.BoundsSource ?? throw new InvalidOptionsException("the z^B rule needs box bounds (--low/--high or --mean/--std).");
        int[] axes = source.RowShape.Length >= 2 ? Enumerable.Range(1, source.RowShape.Length - 1).ToArray() : [0];
        RelValue range = alg.Reduce(low ? ReduceOp.Min : ReduceOp.Max, source, axes);
        return alg.BroadcastTo(alg.Unary(UnaryOp.Negate, range), a.RowShape);
    }
}
