using System.Diagnostics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Rules;

/// <summary>
/// Applies any <see cref="LinearRule"/> to any <see cref="ILinearKernel"/> (Zennit's BasicHook):
/// for each part P of the rule,
/// <code>
///   z   = Σ_{t∈P} m_t(a) ∗ W_t  (+ b if P includes the bias)         — once per image
///   s   = R / stab(z)                                                 — per relevance row (seed)
///   R_in += coef_P · Σ_{t∈P} m_t(a) ⊙ (W_tᵀ s)
/// </code>
/// Relevance rows are a batch of seeds: row r belongs to image <c>rowImage[r]</c>, so every seed of an
/// image shares the forward products and the transformed weights. Terms whose modified input is all
/// zero (a⁻ after a ReLU) are skipped.
/// </summary>
internal static class LinearRuleEngine
{
    /// <param name="rule">The rule configuration.</param>
    /// <param name="kernel">The layer's linear map.</param>
    /// <param name="layer">Weights and bias.</param>
    /// <param name="input">The layer input a, [N, …InputShape].</param>
    /// <param name="relevance">Output relevance, [B, …OutputShape].</param>
    /// <param name="rowImage">For each relevance row, the image (index into <paramref name="input"/>) it explains.</param>
    /// <param name="bounds">Box bounds for z^B terms, the same for every image.</param>
    /// <returns>Input relevance, [B, …InputShape].</returns>
    public static Tensor Propagate(LinearRule rule, ILinearKernel kernel, LinearLayer layer, Tensor input, Tensor relevance, int[] rowImage, BoxBounds? bounds) =>
        Propagate(rule, kernel, layer, input, relevance, rowImage, bounds is null ? null : [bounds]);

    /// <summary>As above, with box bounds given once for all images (one entry) or per image (N entries).</summary>
    public static Tensor Propagate(LinearRule rule, ILinearKernel kernel, LinearLayer layer, Tensor input, Tensor relevance, int[] rowImage, IReadOnlyList<BoxBounds>? bounds, Explaining.WalkProfiler? profiler = null, BufferPool? pool = null, IReadOnlyList<Tensor?>? denominators = null)
    {
        int rows = relevance.Shape[0];
        int inLength = input.RowLength;
        Tensor? result = null;
        for (int p = 0; p < rule.Parts.Count; p++)
        {
            RulePart part = rule.Parts[p];
            Tensor? given = denominators is not null && p < denominators.Count ? denominators[p] : null;
            var terms = new List<(Tensor X, LinearWeights W)>(part.Terms.Count);
            Tensor? z = null;
            long started = Stopwatch.GetTimestamp();
            foreach (RuleTerm term in part.Terms)
            {
                if (ModifyInputOrSkip(input, term.Input, bounds) is not Tensor x)
                {
                    continue;
                }

                LinearWeights w = layer.Transformed(term.Weight);
                terms.Add((x, w));
                if (given is not null)
                {
                    continue; // z_P came from the capture run
                }

                Tensor zt = kernel.Forward(x, w, pool);
                if (z is null)
                {
                    z = zt;
                }
                else
                {
                    TensorPrimitives.Add(z.Data, zt.Data, z.Data);
                    pool?.Return(zt);
                }
            }

            if (terms.Count == 0)
            {
                continue; // every term vanished: this part contributes nothing
            }

            if (given is not null)
            {
                // A copy: the stabiliser is applied in place, and the captured value belongs to the explanation.
                z = pool?.Rent(given.Shape, clear: false) ?? new Tensor(given.Shape);
                given.Data.CopyTo(z.Data, 0);
            }
            else if (part.IncludeBias && layer.Bias is not null)
            {
                kernel.AddBias(z!, layer.Bias);
            }

            profiler?.Add("denominators", started);
            Tensor s = DivideByStabilized(relevance, z!, rowImage, part.Stabilizer, pool);
            pool?.Return(z);
            foreach ((Tensor x, LinearWeights w) in terms)
            {
                started = Stopwatch.GetTimestamp();
                Tensor g = kernel.InputGradient(s, w, pool);
                profiler?.Add("transposed", started);
                for (int r = 0; r < rows; r++)
                {
                    Span<float> gs = g.Data.AsSpan(r * inLength, inLength);
                    TensorPrimitives.Multiply(x.Data.AsSpan(rowImage[r] * inLength, inLength), gs, gs);
                }

                if (result is null)
                {
                    // The first term's product becomes the result: one large buffer fewer per layer.
                    if (part.Coefficient != 1f)
                    {
                        TensorPrimitives.Multiply(g.Data, part.Coefficient, g.Data);
                    }

                    result = g;
                }
                else
                {
                    TensorPrimitives.MultiplyAdd(g.Data, part.Coefficient, result.Data, result.Data);
                    pool?.Return(g);
                }
            }

            // The walk's temporaries go back to the pool; the layer input itself belongs to the caller.
            pool?.Return(s);
            foreach ((Tensor x, _) in terms)
            {
                if (!ReferenceEquals(x, input))
                {
                    pool?.Return(x);
                }
            }
        }

        return result ?? new Tensor([rows, .. kernel.InputShape]);
    }

    /// <summary>
    /// The modified input, or null when it is all zero (its term contributes nothing). Avoids copies where the
    /// modifier is the identity on this input: a⁺ of a non-negative input is the input itself, a⁻ of it is zero.
    /// </summary>
    private static Tensor? ModifyInputOrSkip(Tensor a, InputModifier modifier, IReadOnlyList<BoxBounds>? bounds)
    {
        if (modifier is InputModifier.Positive or InputModifier.Negative)
        {
            float min = TensorPrimitives.Min(a.Data), max = TensorPrimitives.Max(a.Data);
            if (modifier == InputModifier.Positive)
            {
                return max <= 0f ? null : min >= 0f ? a : ModifyInput(a, modifier, bounds);
            }

            return min >= 0f ? null : max <= 0f ? a : ModifyInput(a, modifier, bounds);
        }

        Tensor x = ModifyInput(a, modifier, bounds);
        return x.Data.AsSpan().ContainsAnyExcept(0f) ? x : null;
    }

    /// <summary><c>stab(d) = d + ε·(d ≥ 0 ? 1 : −1)</c>.</summary>
    public static float Stabilize(float d, float epsilon) => d + (d >= 0 ? epsilon : -epsilon);

    /// <summary>
    /// s[r, j] = R[r, j] / stab(z[rowImage[r], j]). A denominator that is exactly 0 (possible only with ε = 0)
    /// drops that unit's relevance instead of producing NaN/Inf.
    /// </summary>
    private static Tensor DivideByStabilized(Tensor relevance, Tensor z, int[] rowImage, float epsilon, BufferPool? pool)
    {
        // z is this part's own buffer: stabilise it in place.
        float[] stabilized = z.Data;
        for (int i = 0; i < stabilized.Length; i++)
        {
            float d = Stabilize(stabilized[i], epsilon);
            stabilized[i] = d == 0f ? float.PositiveInfinity : d;
        }

        Tensor s = pool?.Rent(relevance.Shape, clear: false) ?? new Tensor(relevance.Shape);
        int length = relevance.RowLength;
        for (int r = 0; r < relevance.Shape[0]; r++)
        {
            TensorPrimitives.Divide(relevance.Data.AsSpan(r * length, length), stabilized.AsSpan(rowImage[r] * length, length), s.Data.AsSpan(r * length, length));
        }

        return s;
    }

    /// <summary>The modified input m(a): a, a⁺, a⁻, ones, or the negated per-channel box bounds.</summary>
    internal static Tensor ModifyInput(Tensor a, InputModifier modifier, IReadOnlyList<BoxBounds>? bounds)
    {
        switch (modifier)
        {
            case InputModifier.Identity:
                return a;
            case InputModifier.Positive:
                return Map(a, static (x, d) => TensorPrimitives.Max(x, 0f, d));
            case InputModifier.Negative:
                return Map(a, static (x, d) => TensorPrimitives.Min(x, 0f, d));
            case InputModifier.Ones:
                return Map(a, static (_, d) => d.Fill(1f));
            case InputModifier.NegatedLowBound:
            case InputModifier.NegatedHighBound:
                if (bounds is null || bounds.Count == 0)
                {
                    throw new InvalidOptionsException("the z^B rule needs box bounds (--low/--high or --mean/--std).");
                }

                bool low = modifier == InputModifier.NegatedLowBound;
                int channels = a.Rank >= 2 ? a.Shape[1] : 1;
                int images = a.Shape[0], rowLength = a.RowLength, inner = a.Rank >= 2 ? rowLength / channels : 1;
                var result = new Tensor(a.Shape);
                for (int n = 0; n < images; n++)
                {
                    BoxBounds b = bounds[bounds.Count == 1 ? 0 : n];
                    if (b.Low.Length != 1 && b.Low.Length != channels)
                    {
                        throw new InvalidOptionsException($"box bounds have {b.Low.Length} values; the first linear layer's input {a.ShapeText} has {channels} channels (give one value or one per channel).");
                    }

                    for (int i = 0; i < rowLength; i++)
                    {
                        int c = (i / inner) % channels;
                        result.Data[(n * rowLength) + i] = -(low ? b.LowFor(c) : b.HighFor(c));
                    }
                }

                return result;
            default:
                throw new ArgumentOutOfRangeException(nameof(modifier));
        }
    }

    private delegate void SpanMap(ReadOnlySpan<float> source, Span<float> destination);

    private static Tensor Map(Tensor a, SpanMap map)
    {
        var t = new Tensor(a.Shape);
        map(a.Data, t.Data);
        return t;
    }
}
