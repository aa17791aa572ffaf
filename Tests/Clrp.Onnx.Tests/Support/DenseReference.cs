namespace Clrp.Onnx.Tests.Support;

/// <summary>
/// A linear layer written out as an explicit float64 matrix <c>W[out, in]</c> over flattened (C·H·W) inputs
/// and outputs, with a connectivity mask (which inputs lie in each output's receptive field, inside the
/// input) and the channel of every input (for per-channel z^B bounds). Built by looping over the operator's
/// definition, independently of the engine's im2col kernels.
/// </summary>
internal sealed class DenseMatrix
{
    public DenseMatrix(int outputs, int inputs)
    {
        Out = outputs;
        In = inputs;
        W = new double[outputs * inputs];
        Connected = new bool[outputs * inputs];
        InputChannel = new int[inputs];
    }

    public int Out { get; }

    public int In { get; }

    /// <summary>Row-major [Out, In].</summary>
    public double[] W { get; }

    /// <summary>Whether input i lies in output j's receptive field (and inside the input), row-major [Out, In].</summary>
    public bool[] Connected { get; }

    /// <summary>Bias [Out], or null.</summary>
    public double[]? Bias { get; set; }

    /// <summary>Channel of each input element (C·H·W order); for dense layers the feature index.</summary>
    public int[] InputChannel { get; }

    public double this[int j, int i] => W[(j * In) + i];

    public bool Link(int j, int i) => Connected[(j * In) + i];

    /// <summary>
    /// The matrix of a 2-D Conv with weights [M, C/group, kH, kW]:
    /// <c>z[m, oh, ow] = Σ_{c,kh,kw} w[m,c,kh,kw] · x[g·C/group + c, oh·sH − pT + kh·dH, ow·sW − pL + kw·dW]</c>,
    /// positions outside the input skipped (zero padding).
    /// </summary>
    public static DenseMatrix Conv(float[] weights, float[]? bias, int inC, int inH, int inW, int outC, int kH, int kW, int group,
        (int H, int W) stride, (int Top, int Left, int Bottom, int Right) pads, (int H, int W) dilation)
    {
        int cPerGroup = inC / group, mPerGroup = outC / group;
        int outH = ((inH + pads.Top + pads.Bottom - ((dilation.H * (kH - 1)) + 1)) / stride.H) + 1;
        int outW = ((inW + pads.Left + pads.Right - ((dilation.W * (kW - 1)) + 1)) / stride.W) + 1;
        var d = new DenseMatrix(outC * outH * outW, inC * inH * inW);
        for (int i = 0; i < d.In; i++)
        {
            d.InputChannel[i] = i / (inH * inW);
        }

        for (int m = 0; m < outC; m++)
        {
            int g = m / mPerGroup;
            for (int oh = 0; oh < outH; oh++)
            {
                for (int ow = 0; ow < outW; ow++)
                {
                    int j = (((m * outH) + oh) * outW) + ow;
                    for (int c = 0; c < cPerGroup; c++)
                    {
                        for (int kh = 0; kh < kH; kh++)
                        {
                            for (int kw = 0; kw < kW; kw++)
                            {
                                int ih = (oh * stride.H) - pads.Top + (kh * dilation.H);
                                int iw = (ow * stride.W) - pads.Left + (kw * dilation.W);
                                if (ih < 0 || ih >= inH || iw < 0 || iw >= inW)
                                {
                                    continue;
                                }

                                int channel = (g * cPerGroup) + c;
                                int i = (((channel * inH) + ih) * inW) + iw;
                                d.W[(j * d.In) + i] += weights[(((((m * cPerGroup) + c) * kH) + kh) * kW) + kw];
                                d.Connected[(j * d.In) + i] = true;
                            }
                        }
                    }
                }
            }
        }

        if (bias is not null)
        {
            d.Bias = new double[d.Out];
            for (int j = 0; j < d.Out; j++)
            {
                d.Bias[j] = bias[j / (outH * outW)];
            }
        }

        return d;
    }

    /// <summary>A dense layer <c>z = W x + b</c> with W given row-major as [out, in].</summary>
    public static DenseMatrix Dense(float[] weights, float[]? bias, int outputs, int inputs)
    {
        var d = new DenseMatrix(outputs, inputs);
        for (int k = 0; k < weights.Length; k++)
        {
            d.W[k] = weights[k];
            d.Connected[k] = true;
        }

        for (int i = 0; i < inputs; i++)
        {
            d.InputChannel[i] = i;
        }

        d.Bias = bias is null ? null : Array.ConvertAll(bias, v => (double)v);
        return d;
    }

    /// <summary>
    /// AveragePool as a matrix: <c>w_ij = 1/count_j</c> for the window elements inside the input, with
    /// <c>count_j</c> the whole window (<paramref name="countIncludePad"/>) or only the elements inside.
    /// Output size given explicitly (ceil_mode is the caller's arithmetic).
    /// </summary>
    public static DenseMatrix AveragePool(int c, int inH, int inW, int kH, int kW, (int H, int W) stride, (int Top, int Left) pads, int outH, int outW, bool countIncludePad)
    {
        var d = new DenseMatrix(c * outH * outW, c * inH * inW);
        foreach ((int j, int[] window) in PoolWindows(c, inH, inW, kH, kW, stride, pads, outH, outW).Select((w, j) => (j, w)))
        {
            double weight = 1.0 / (countIncludePad ? kH * kW : window.Length);
            foreach (int i in window)
            {
                d.W[(j * d.In) + i] = weight;
                d.Connected[(j * d.In) + i] = true;
            }
        }

        return d;
    }

    /// <summary>For each pooled output (C·outH·outW order), the flat input indices of its window that lie inside the input.</summary>
    public static int[][] PoolWindows(int c, int inH, int inW, int kH, int kW, (int H, int W) stride, (int Top, int Left) pads, int outH, int outW)
    {
        var result = new int[c * outH * outW][];
        for (int ch = 0; ch < c; ch++)
        {
            for (int oh = 0; oh < outH; oh++)
            {
                for (int ow = 0; ow < outW; ow++)
                {
                    var window = new List<int>();
                    for (int kh = 0; kh < kH; kh++)
                    {
                        for (int kw = 0; kw < kW; kw++)
                        {
                            int ih = (oh * stride.H) - pads.Top + kh, iw = (ow * stride.W) - pads.Left + kw;
                            if (ih >= 0 && ih < inH && iw >= 0 && iw < inW)
                            {
                                window.Add((((ch * inH) + ih) * inW) + iw);
                            }
                        }
                    }

                    result[(((ch * outH) + oh) * outW) + ow] = [.. window];
                }
            }
        }

        return result;
    }
}

/// <summary>
/// DESIGN.md §1's linear-layer rules, written literally in float64 over a <see cref="DenseMatrix"/>:
/// <c>R_i = Σ_j num_ij / stab(Σ_i' num_i'j) · R_j</c> with the rule's numerator, summing only over connected
/// (i, j); <c>stab(d) = d + ε·(d ≥ 0 ? 1 : −1)</c>. One relevance vector per call; no engine code involved.
/// </summary>
internal static class DenseReference
{
    /// <summary>The non-ε rules' default stabiliser, as float32 (the value the engine uses).</summary>
    public const double DefaultStabilizer = 1e-9f;

    public static double Stab(double d, double epsilon) => d + (d >= 0 ? epsilon : -epsilon);

    /// <summary><c>z_j = Σ_i W_ij a_i (+ b_j)</c>.</summary>
    public static double[] Forward(DenseMatrix m, IReadOnlyList<double> a, bool bias = true)
    {
        var z = new double[m.Out];
        for (int j = 0; j < m.Out; j++)
        {
            double s = bias && m.Bias is not null ? m.Bias[j] : 0;
            for (int i = 0; i < m.In; i++)
            {
                s += m[j, i] * a[i];
            }

            z[j] = s;
        }

        return z;
    }

    /// <summary>The plain gradient <c>g_i = Σ_j W_ij g_j</c>.</summary>
    public static double[] Gradient(DenseMatrix m, IReadOnlyList<double> g)
    {
        var result = new double[m.In];
        for (int j = 0; j < m.Out; j++)
        {
            for (int i = 0; i < m.In; i++)
            {
                result[i] += m[j, i] * g[j];
            }
        }

        return result;
    }

    /// <summary>
    /// The generic redistribution <c>R_i = Σ_j num(i,j) / stab(Σ_i' num(i',j) + extra_j) · R_j</c> over connected pairs.
    /// </summary>
    public static double[] Redistribute(DenseMatrix m, Func<int, int, double> numerator, IReadOnlyList<double> relevance, double epsilon, double[]? extra = null)
    {
        var result = new double[m.In];
        for (int j = 0; j < m.Out; j++)
        {
            if (relevance[j] == 0)
            {
                continue;
            }

            double z = extra?[j] ?? 0;
            for (int i = 0; i < m.In; i++)
            {
                if (m.Link(j, i))
                {
                    z += numerator(i, j);
                }
            }

            double s = relevance[j] / Stab(z, epsilon);
            for (int i = 0; i < m.In; i++)
            {
                if (m.Link(j, i))
                {
                    result[i] += numerator(i, j) * s;
                }
            }
        }

        return result;
    }

    /// <summary>The denominators <c>Σ_i num(i,j) (+ extra_j)</c> before stabilisation (to check conditioning of test data).</summary>
    public static double[] Denominators(DenseMatrix m, Func<int, int, double> numerator, double[]? extra = null)
    {
        var z = new double[m.Out];
        for (int j = 0; j < m.Out; j++)
        {
            z[j] = extra?[j] ?? 0;
            for (int i = 0; i < m.In; i++)
            {
                if (m.Link(j, i))
                {
                    z[j] += numerator(i, j);
                }
            }
        }

        return z;
    }

    /// <summary>LRP-ε: <c>a_i w_ij / stab(Σ a w + b_j)</c>; the bias stays in the denominator.</summary>
    public static double[] Epsilon(DenseMatrix m, IReadOnlyList<double> a, IReadOnlyList<double> r, double epsilon) =>
        Redistribute(m, (i, j) => a[i] * m[j, i], r, epsilon, m.Bias);

    /// <summary>z⁺: <c>(a_i w_ij)⁺ / stab(Σ (a w)⁺)</c> with <c>(a w)⁺ = a⁺w⁺ + a⁻w⁻</c>; bias ignored.</summary>
    public static double[] ZPlus(DenseMatrix m, IReadOnlyList<double> a, IReadOnlyList<double> r, double stabilizer = DefaultStabilizer) =>
        Redistribute(m, (i, j) => PositivePart(a[i], m[j, i]), r, stabilizer);

    /// <summary>αβ: <c>α (a w)⁺/stab(Σ(a w)⁺) − β (a w)⁻/stab(Σ(a w)⁻)</c>; bias ignored.</summary>
    public static double[] AlphaBeta(DenseMatrix m, IReadOnlyList<double> a, IReadOnlyList<double> r, double alpha, double beta, double stabilizer = DefaultStabilizer)
    {
        double[] pos = Redistribute(m, (i, j) => PositivePart(a[i], m[j, i]), r, stabilizer);
        double[] neg = Redistribute(m, (i, j) => NegativePart(a[i], m[j, i]), r, stabilizer);
        return pos.Select((p, i) => (alpha * p) - (beta * neg[i])).ToArray();
    }

    /// <summary>γ: <c>a_i (w_ij + γ w⁺_ij) / stab(Σ a (w + γ w⁺))</c>; bias ignored.</summary>
    public static double[] Gamma(DenseMatrix m, IReadOnlyList<double> a, IReadOnlyList<double> r, double gamma, double stabilizer = DefaultStabilizer) =>
        Redistribute(m, (i, j) => a[i] * (m[j, i] + (gamma * Math.Max(0, m[j, i]))), r, stabilizer);

    /// <summary>z^B: <c>(a_i w_ij − l_i w⁺_ij − h_i w⁻_ij) / stab(Σ …)</c>, l/h of input i's channel; bias ignored.</summary>
    public static double[] ZBox(DenseMatrix m, IReadOnlyList<double> a, IReadOnlyList<double> r, double[] low, double[] high, double stabilizer = DefaultStabilizer) =>
        Redistribute(m, (i, j) => ZBoxNumerator(m, a, low, high, i, j), r, stabilizer);

    public static double ZBoxNumerator(DenseMatrix m, IReadOnlyList<double> a, double[] low, double[] high, int i, int j)
    {
        int c = m.InputChannel[i];
        double l = low.Length == 1 ? low[0] : low[c], h = high.Length == 1 ? high[0] : high[c];
        double w = m[j, i];
        return (a[i] * w) - (l * Math.Max(0, w)) - (h * Math.Min(0, w));
    }

    /// <summary>w²: <c>w_ij² / stab(Σ w²)</c>, independent of the input.</summary>
    public static double[] WSquare(DenseMatrix m, IReadOnlyList<double> r, double stabilizer = DefaultStabilizer) =>
        Redistribute(m, (i, j) => m[j, i] * m[j, i], r, stabilizer);

    /// <summary>flat: <c>1 / stab(#inputs in j's receptive field inside the input)</c>.</summary>
    public static double[] Flat(DenseMatrix m, IReadOnlyList<double> r, double stabilizer = DefaultStabilizer) =>
        Redistribute(m, (_, _) => 1.0, r, stabilizer);

    /// <summary>(a w)⁺ = a⁺w⁺ + a⁻w⁻.</summary>
    public static double PositivePart(double a, double w) => (Math.Max(0, a) * Math.Max(0, w)) + (Math.Min(0, a) * Math.Min(0, w));

    /// <summary>(a w)⁻ = a⁺w⁻ + a⁻w⁺.</summary>
    public static double NegativePart(double a, double w) => (Math.Max(0, a) * Math.Min(0, w)) + (Math.Min(0, a) * Math.Max(0, w));
}
