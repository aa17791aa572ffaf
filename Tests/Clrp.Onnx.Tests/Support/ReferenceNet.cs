namespace Clrp.Onnx.Tests.Support;

/// <summary>One layer of a <see cref="ReferenceNet"/>: float64 forward, relevance and gradient over flat (C·H·W) vectors.</summary>
internal abstract class ReferenceLayer
{
    public abstract double[] Forward(double[] a);

    /// <summary>Input relevance from output relevance <paramref name="r"/>, given the layer input <paramref name="a"/>.</summary>
    public abstract double[] Relevance(double[] a, double[] r);

    /// <summary>Input gradient from output gradient <paramref name="g"/>, given the layer input <paramref name="a"/>.</summary>
    public abstract double[] Gradient(double[] a, double[] g);
}

/// <summary>A linear layer with the rule <paramref name="rule"/> (m, a, R) → R_in, e.g. <see cref="DenseReference.Epsilon"/>.</summary>
internal sealed class ReferenceLinear(DenseMatrix matrix, Func<DenseMatrix, double[], double[], double[]> rule) : ReferenceLayer
{
    public DenseMatrix Matrix => matrix;

    public override double[] Forward(double[] a) => DenseReference.Forward(matrix, a);

    public override double[] Relevance(double[] a, double[] r) => rule(matrix, a, r);

    public override double[] Gradient(double[] a, double[] g) => DenseReference.Gradient(matrix, g);

    public static Func<DenseMatrix, double[], double[], double[]> Epsilon(double epsilon = 1e-6f) => (m, a, r) => DenseReference.Epsilon(m, a, r, epsilon);

    public static Func<DenseMatrix, double[], double[], double[]> ZPlus() => (m, a, r) => DenseReference.ZPlus(m, a, r);

    public static Func<DenseMatrix, double[], double[], double[]> ZBox(double[] low, double[] high) => (m, a, r) => DenseReference.ZBox(m, a, r, low, high);
}

/// <summary>ReLU: relevance passes unchanged; gradient masked by x &gt; 0.</summary>
internal sealed class ReferenceRelu : ReferenceLayer
{
    public override double[] Forward(double[] a) => a.Select(v => Math.Max(0, v)).ToArray();

    public override double[] Relevance(double[] a, double[] r) => (double[])r.Clone();

    public override double[] Gradient(double[] a, double[] g) => g.Select((v, i) => a[i] > 0 ? v : 0).ToArray();
}

/// <summary>Max pooling over explicit windows: winner-take-all, ties share equally (relevance and gradient alike).</summary>
internal sealed class ReferenceMaxPool(int[][] windows, int inputs) : ReferenceLayer
{
    public override double[] Forward(double[] a) => windows.Select(w => w.Max(i => a[i])).ToArray();

    public override double[] Relevance(double[] a, double[] r) => Route(a, r);

    public override double[] Gradient(double[] a, double[] g) => Route(a, g);

    private double[] Route(double[] a, double[] r)
    {
        var result = new double[inputs];
        for (int j = 0; j < windows.Length; j++)
        {
            double max = windows[j].Max(i => a[i]);
            int[] winners = windows[j].Where(i => a[i] == max).ToArray();
            foreach (int i in winners)
            {
                result[i] += r[j] / winners.Length;
            }
        }

        return result;
    }
}

/// <summary>Average pooling as a matrix: relevance by the Norm rule (ε = 1e-6, no bias), gradient Wᵀg.</summary>
internal sealed class ReferenceAveragePool(DenseMatrix matrix) : ReferenceLayer
{
    public override double[] Forward(double[] a) => DenseReference.Forward(matrix, a);

    public override double[] Relevance(double[] a, double[] r) => DenseReference.Epsilon(matrix, a, r, 1e-6f);

    public override double[] Gradient(double[] a, double[] g) => DenseReference.Gradient(matrix, g);
}

/// <summary>
/// A float64 feed-forward net over flat vectors (Flatten/Reshape are no-ops there), used as the independent
/// reference for explainer tests: forward values, LRP with each layer's rule, and the exact gradient.
/// </summary>
internal sealed class ReferenceNet(params ReferenceLayer[] layers)
{
    /// <summary>Every layer's input, then the output: <c>values[0] = x</c>, <c>values[^1] = logits</c>.</summary>
    public List<double[]> Forward(double[] x)
    {
        var values = new List<double[]> { x };
        foreach (ReferenceLayer layer in layers)
        {
            values.Add(layer.Forward(values[^1]));
        }

        return values;
    }

    public double[] Logits(double[] x) => Forward(x)[^1];

    /// <summary>Relevance at the input for <paramref name="seed"/> at the logits.</summary>
    public double[] Relevance(double[] x, double[] seed)
    {
        List<double[]> values = Forward(x);
        double[] r = seed;
        for (int l = layers.Length - 1; l >= 0; l--)
        {
            r = layers[l].Relevance(values[l], r);
        }

        return r;
    }

    /// <summary>∂(seed · logits)/∂x.</summary>
    public double[] Gradient(double[] x, double[] seed)
    {
        List<double[]> values = Forward(x);
        double[] g = seed;
        for (int l = layers.Length - 1; l >= 0; l--)
        {
            g = layers[l].Gradient(values[l], g);
        }

        return g;
    }

    /// <summary>Central finite differences of logit <paramref name="j"/> in float64 with step <paramref name="h"/>.</summary>
    public double[] FiniteDifferenceGradient(double[] x, int j, double h = 1e-5)
    {
        var result = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double[] plus = (double[])x.Clone(), minus = (double[])x.Clone();
            plus[i] += h;
            minus[i] -= h;
            result[i] = (Logits(plus)[j] - Logits(minus)[j]) / (2 * h);
        }

        return result;
    }
}

/// <summary>Seeded random test data.</summary>
internal static class RandomData
{
    /// <summary>Normal(0, scale²) values (Box–Muller), as float32.</summary>
    public static float[] Normal(Random random, int count, double scale = 1.0)
    {
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            v[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return v;
    }

    /// <summary>Uniform values in [low, high), as float32.</summary>
    public static float[] Uniform(Random random, int count, double low, double high) =>
        Enumerable.Range(0, count).Select(_ => (float)(low + ((high - low) * random.NextDouble()))).ToArray();

    public static double[] ToDouble(ReadOnlySpan<float> v)
    {
        var d = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            d[i] = v[i];
        }

        return d;
    }
}
