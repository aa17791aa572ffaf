using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// Builds the relevance placed on the logits for each method (DESIGN.md §1). Rows are laid out image by
/// image; within an image, the k targets come first and, for CLRP, their k duals after them.
/// </summary>
internal static class SeedFactory
{
    /// <summary>Rows per image: k, or 2k for CLRP (target + dual).</summary>
    public static int RowsPerImage(ExplainMethod method, int k) => method.IsContrastive() ? 2 * k : k;

    /// <summary>
    /// The seed of one row over the K logits <paramref name="z"/> of its image.
    /// LRP, CLRP targets, CLRP2 duals: <c>e_j·|z_j|</c>. CLRP1 duals: <c>|z_j|/(K−1)</c> (or <c>|z_c|</c>) at c ≠ j.
    /// SGLRP: <c>p_j(δ_jc − p_c)</c>, p = softmax(z). Gradients: <c>e_j</c>.
    /// </summary>
    public static void Fill(Span<float> seed, ReadOnlySpan<float> z, int j, ExplainMethod method, bool dual, DualSeed dualSeed)
    {
        seed.Clear();
        int classes = z.Length;
        switch (method)
        {
            case ExplainMethod.Gradient or ExplainMethod.GradientInput:
                seed[j] = 1f;
                break;
            case ExplainMethod.Sglrp:
                // p_j(1 − p_j) as p_j·Σ_{c≠j} p_c: for a confident class 1 − p_j cancels even in float64 (p_j = 1 − 5e-14
                // leaves three digits), the sum of the others does not.
                double[] p = Softmax(z);
                double others = 0;
                for (int c = 0; c < classes; c++)
                {
                    others += c == j ? 0 : p[c];
                }

                for (int c = 0; c < classes; c++)
                {
                    seed[c] = (float)(c == j ? p[j] * others : -p[j] * p[c]);
                }

                break;
            case ExplainMethod.Clrp1 when dual:
                if (classes < 2)
                {
                    throw new InvalidTargetException("CLRP1 contrasts the target with the other classes; the explained output has only one.");
                }

                for (int c = 0; c < classes; c++)
                {
                    if (c != j)
                    {
                        seed[c] = dualSeed == DualSeed.Uniform ? Math.Abs(z[j]) / (classes - 1) : Math.Abs(z[c]);
                    }
                }

                break;
            default:
                seed[j] = Math.Abs(z[j]);
                break;
        }
    }

    private static double[] Softmax(ReadOnlySpan<float> z)
    {
        double max = double.NegativeInfinity;
        foreach (float v in z)
        {
            max = Math.Max(max, v);
        }

        var p = new double[z.Length];
        double sum = 0;
        for (int c = 0; c < z.Length; c++)
        {
            p[c] = Math.Exp(z[c] - max);
            sum += p[c];
        }

        for (int c = 0; c < z.Length; c++)
        {
            p[c] /= sum;
        }

        return p;
    }

    /// <summary>The CLRP map and signed difference of one target/dual pair: <c>d = R/ΣR − R̄/ΣR̄</c> (a |Σ| below 1e-12 counts as 1), map = max(0, d).</summary>
    public static void Contrast(ReadOnlySpan<float> target, ReadOnlySpan<float> dual, Span<float> map, Span<float> signed)
    {
        double st = Sum(target), sd = Sum(dual);
        double nt = Math.Abs(st) < 1e-12 ? 1 : st, nd = Math.Abs(sd) < 1e-12 ? 1 : sd;
        for (int i = 0; i < target.Length; i++)
        {
            double d = (target[i] / nt) - (dual[i] / nd);
            signed[i] = (float)d;
            map[i] = (float)Math.Max(0, d);
        }
    }

    public static double Sum(ReadOnlySpan<float> values)
    {
        double s = 0;
        foreach (float v in values)
        {
            s += v;
        }

        return s;
    }
}
