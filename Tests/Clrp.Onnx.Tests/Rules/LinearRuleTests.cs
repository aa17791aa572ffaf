using Clrp.Onnx.Algebra;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Rules;

/// <summary>
/// Every rule through <see cref="LinearRuleEngine"/> on Conv (strides, asymmetric pads, dilation, groups,
/// depthwise) and dense layers, with and without bias, several seeds and several relevance rows mapped to two
/// images, against <see cref="DenseReference"/>'s literal float64 formulas on the explicit weight matrix.
/// </summary>
[TestClass]
public sealed class LinearRuleTests
{
    private const double Tolerance = 1e-4;
    private const int Images = 2;
    private static readonly int[] RowImage = [0, 1, 1, 0, 1];
    private static readonly int[] Seeds = [11, 2024, 77];

    /// <summary>A linear layer under test: a Conv geometry, or dense when <see cref="Dense"/> is set.</summary>
    internal sealed record LayerCase(string Name, int C, int H, int W, int M, int KH, int KW, int Group, (int H, int W) Stride,
        (int Top, int Left, int Bottom, int Right) Pads, (int H, int W) Dilation, bool Dense = false)
    {
        public int OutH => Dense ? 1 : ((H + Pads.Top + Pads.Bottom - ((Dilation.H * (KH - 1)) + 1)) / Stride.H) + 1;

        public int OutW => Dense ? 1 : ((W + Pads.Left + Pads.Right - ((Dilation.W * (KW - 1)) + 1)) / Stride.W) + 1;

        public int InLength => C * H * W;

        public int OutLength => M * OutH * OutW;

        public int WeightCount => Dense ? M * C : M * (C / Group) * KH * KW;

        public int[] InputShape => Dense ? [C] : [C, H, W];

        public int[] OutputShape => Dense ? [M] : [M, OutH, OutW];

        public ILinearKernel Kernel() => Dense
            ? new DenseKernel(C, M)
            : new Conv2dKernel(C, M, Group, new Window2d(KH, KW, Stride.H, Stride.W, Dilation.H, Dilation.W, Pads.Top, Pads.Left, Pads.Bottom, Pads.Right, H, W, OutH, OutW));

        public DenseMatrix Matrix(float[] w, float[]? b) => Dense
            ? DenseMatrix.Dense(w, b, M, C)
            : DenseMatrix.Conv(w, b, C, H, W, M, KH, KW, Group, Stride, Pads, Dilation);

        public override string ToString() => Name;
    }

    private static readonly LayerCase[] Layers =
    [
        new("conv3x3-pad1", 3, 6, 6, 4, 3, 3, 1, (1, 1), (1, 1, 1, 1), (1, 1)),
        new("conv-stride2-asymmetric-pads", 3, 7, 6, 4, 3, 2, 1, (2, 2), (1, 0, 2, 1), (1, 1)),
        new("conv-dilation2", 2, 7, 7, 3, 3, 3, 1, (1, 1), (2, 2, 2, 2), (2, 2)),
        new("conv-groups2", 4, 5, 5, 6, 3, 3, 2, (1, 1), (1, 1, 1, 1), (1, 1)),
        new("conv-depthwise", 3, 5, 5, 3, 3, 3, 3, (2, 1), (1, 1, 0, 0), (1, 1)),
        new("conv-depthwise-multiplier2", 2, 5, 4, 4, 2, 3, 2, (1, 2), (0, 1, 1, 1), (2, 1)),
        new("dense", 12, 1, 1, 5, 1, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), Dense: true),
    ];

    private enum InputKind
    {
        /// <summary>Normal(0,1): a first layer's signed input.</summary>
        Signed,

        /// <summary>max(0, Normal): a post-ReLU input with exact zeros.</summary>
        AfterRelu,

        /// <summary>Uniform in the per-channel box [l, h].</summary>
        Box,
    }

    /// <summary>A rule with its engine configuration, its reference formula, the inputs it is tested on and whether its denominator can cancel.</summary>
    private sealed record RuleCase(
        LinearRule Rule,
        Func<DenseMatrix, double[], double[], double[], double[], double[]> Reference,
        InputKind[] Inputs,
        Func<DenseMatrix, double[], double[]>? Denominators);

    private static RuleCase RuleByName(string name) => name switch
    {
        "epsilon" => new(new EpsilonRule(), (m, a, r, _, _) => DenseReference.Epsilon(m, a, r, 1e-6f), [InputKind.Signed, InputKind.AfterRelu],
            (m, a) => DenseReference.Denominators(m, (i, j) => a[i] * m[j, i], m.Bias)),
        "epsilon-0.25" => new(new EpsilonRule(0.25f), (m, a, r, _, _) => DenseReference.Epsilon(m, a, r, 0.25f), [InputKind.Signed, InputKind.AfterRelu], null),
        "zplus" => new(new ZPlusRule(), (m, a, r, _, _) => DenseReference.ZPlus(m, a, r), [InputKind.Signed, InputKind.AfterRelu], null),
        "alpha2-beta1" => new(new AlphaBetaRule(2f, 1f), (m, a, r, _, _) => DenseReference.AlphaBeta(m, a, r, 2, 1), [InputKind.Signed, InputKind.AfterRelu], null),
        "alpha1-beta0" => new(new AlphaBetaRule(1f, 0f), (m, a, r, _, _) => DenseReference.AlphaBeta(m, a, r, 1, 0), [InputKind.Signed, InputKind.AfterRelu], null),
        "gamma" => new(new GammaRule(), (m, a, r, _, _) => DenseReference.Gamma(m, a, r, 0.25), [InputKind.Signed, InputKind.AfterRelu],
            (m, a) => DenseReference.Denominators(m, (i, j) => a[i] * (m[j, i] + (0.25 * Math.Max(0, m[j, i]))))),
        "gamma-1" => new(new GammaRule(1f), (m, a, r, _, _) => DenseReference.Gamma(m, a, r, 1.0), [InputKind.AfterRelu],
            (m, a) => DenseReference.Denominators(m, (i, j) => a[i] * (m[j, i] + Math.Max(0, m[j, i])))),
        "zbox" => new(new ZBoxRule(), (m, a, r, l, h) => DenseReference.ZBox(m, a, r, l, h), [InputKind.Box], null),
        "wsquare" => new(new WSquareRule(), (m, _, r, _, _) => DenseReference.WSquare(m, r), [InputKind.Signed], null),
        "flat" => new(new FlatRule(), (m, _, r, _, _) => DenseReference.Flat(m, r), [InputKind.Signed], null),
        _ => throw new ArgumentException(name),
    };

    public static IEnumerable<object[]> Cases() =>
        from rule in new[] { "epsilon", "epsilon-0.25", "zplus", "alpha2-beta1", "alpha1-beta0", "gamma", "gamma-1", "zbox", "wsquare", "flat" }
        from layer in Layers
        select new object[] { rule, layer.Name };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Propagate_RuleOnLayer_MatchesDenseFloat64Reference(string ruleName, string layerName)
    {
        RuleCase rc = RuleByName(ruleName);
        LayerCase layer = Layers.Single(l => l.Name == layerName);
        foreach (int seed in Seeds)
        {
            foreach (bool withBias in new[] { false, true })
            {
                foreach (InputKind kind in rc.Inputs)
                {
                    var random = new Random(seed);
                    float[] w = RandomData.Normal(random, layer.WeightCount);
                    float[]? b = withBias ? RandomData.Normal(random, layer.M) : null;
                    DenseMatrix m = layer.Matrix(w, b);
                    (double[] low, double[] high) = Bounds(layer);
                    float[] x = WellConditionedInput(random, layer, m, kind, low, high, rc.Denominators);
                    float[] r = RandomData.Normal(random, RowImage.Length * layer.OutLength);

                    Tensor actual = Propagate(rc.Rule, layer, w, b, x, r, RowImage, low, high);
                    double[] expected = Reference(rc, layer, m, x, r, RowImage, low, high);
                    Compare.Close(actual.Data, expected, Tolerance, $"{ruleName} on {layerName}, seed {seed}, bias {withBias}, {kind} input");
                }
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void Propagate_BatchedRows_EqualOneRowAtATime(string ruleName, string layerName)
    {
        RuleCase rc = RuleByName(ruleName);
        LayerCase layer = Layers.Single(l => l.Name == layerName);
        var random = new Random(5);
        float[] w = RandomData.Normal(random, layer.WeightCount);
        float[] b = RandomData.Normal(random, layer.M);
        (double[] low, double[] high) = Bounds(layer);
        float[] x = Input(random, layer.InLength * Images, rc.Inputs[0], layer, low, high);
        float[] r = RandomData.Normal(random, RowImage.Length * layer.OutLength);

        Tensor batched = Propagate(rc.Rule, layer, w, b, x, r, RowImage, low, high);
        for (int row = 0; row < RowImage.Length; row++)
        {
            float[] one = r.AsSpan(row * layer.OutLength, layer.OutLength).ToArray();
            Tensor single = Propagate(rc.Rule, layer, w, b, x, one, [RowImage[row]], low, high);
            CollectionAssert.AreEqual(single.Data, batched.Row(row).ToArray(), $"row {row} of {ruleName} on {layerName}");
        }
    }

    [TestMethod]
    [DataRow(-1e-6f)]
    [DataRow(float.NaN)]
    [DataRow(float.PositiveInfinity)]
    public void Constructor_EpsilonOrGammaNegativeOrNotFinite_Refused(float value)
    {
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOptionsException>(() => new EpsilonRule(value)).Message, "ε must be finite and ≥ 0");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidOptionsException>(() => new GammaRule(value)).Message, "γ must be finite and ≥ 0");
    }

    [TestMethod]
    [DataRow("zplus")]
    [DataRow("zbox")]
    public void Propagate_BiasFreeNonNegativeInputs_ConservesRelevance(string ruleName)
    {
        RuleCase rc = RuleByName(ruleName);
        foreach (LayerCase layer in Layers)
        {
            foreach (int seed in Seeds)
            {
                var random = new Random(seed);
                float[] w = RandomData.Normal(random, layer.WeightCount);
                double[] low = [0.0], high = [1.0];
                float[] x = RandomData.Uniform(random, layer.InLength * Images, 0, 1);
                float[] r = RandomData.Uniform(random, RowImage.Length * layer.OutLength, 0, 1);

                Tensor actual = Propagate(rc.Rule, layer, w, null, x, r, RowImage, low, high);
                DenseMatrix m = layer.Matrix(w, null);
                for (int row = 0; row < RowImage.Length; row++)
                {
                    // An output whose every contribution is zero (e.g. a padded corner of a depthwise filter whose
                    // in-image weights are all negative, under z⁺) has nothing to pass its relevance to: conservation
                    // is over the outputs with a positive denominator, found in float64 by the reference.
                    double[] a = RandomData.ToDouble(x.AsSpan(RowImage[row] * layer.InLength, layer.InLength));
                    double[] denominators = ruleName == "zplus"
                        ? DenseReference.Denominators(m, (i, j) => DenseReference.PositivePart(a[i], m[j, i]))
                        : DenseReference.Denominators(m, (i, j) => DenseReference.ZBoxNumerator(m, a, low, high, i, j));
                    double rIn = actual.Row(row).ToArray().Sum(v => (double)v);
                    double rOut = Enumerable.Range(0, layer.OutLength).Where(j => denominators[j] > 0).Sum(j => (double)r[(row * layer.OutLength) + j]);
                    Assert.IsTrue(denominators.Count(d => d > 0) >= layer.OutLength * 0.8, $"{layer.Name}: too many dead outputs for a meaningful check");
                    Assert.AreEqual(rOut, rIn, 1e-5 * rOut, $"{ruleName} on {layer.Name}, seed {seed}, row {row}: ΣR_in vs ΣR_out");
                }
            }
        }
    }

    private static Tensor Propagate(LinearRule rule, LayerCase layer, float[] w, float[]? b, float[] x, float[] r, int[] rowImage, double[] low, double[] high)
    {
        var input = new Tensor(x, [Images, .. layer.InputShape]);
        var relevance = new Tensor(r, [rowImage.Length, .. layer.OutputShape]);
        var linear = new LinearLayer(new LinearWeights(w, layer.M, layer.Group), b);
        var bounds = new BoxBounds(Array.ConvertAll(low, v => (float)v), Array.ConvertAll(high, v => (float)v));
        var alg = new EagerAlgebra(new Dictionary<string, Tensor> { ["x"] = input }, rowImage, Images, null, null, null);
        var inputs = new RuleInputs(rule is ZBoxRule ? bounds : null, null, InputNonNegative: false);
        return EagerAlgebra.TensorOf(LinearRuleEngine.Propagate(alg, rule, layer.Kernel(), linear, alg.Activation("x"), inputs, alg.RowsOf(relevance)));
    }

    private static double[] Reference(RuleCase rc, LayerCase layer, DenseMatrix m, float[] x, float[] r, int[] rowImage, double[] low, double[] high)
    {
        var expected = new double[rowImage.Length * layer.InLength];
        for (int row = 0; row < rowImage.Length; row++)
        {
            double[] a = RandomData.ToDouble(x.AsSpan(rowImage[row] * layer.InLength, layer.InLength));
            double[] rr = RandomData.ToDouble(r.AsSpan(row * layer.OutLength, layer.OutLength));
            rc.Reference(m, a, rr, low, high).CopyTo(expected, row * layer.InLength);
        }

        return expected;
    }

    /// <summary>Per-channel box bounds for Conv layers (a single pair for dense ones).</summary>
    private static (double[] Low, double[] High) Bounds(LayerCase layer) => layer.Dense
        ? ([-1.5f], [2.0f])
        : (Enumerable.Range(0, layer.C).Select(c => (double)(float)(-1.0 - (0.5 * c))).ToArray(), Enumerable.Range(0, layer.C).Select(c => (double)(float)(0.5 + (0.75 * c))).ToArray());

    private static float[] Input(Random random, int count, InputKind kind, LayerCase layer, double[] low, double[] high) => kind switch
    {
        InputKind.Signed => RandomData.Normal(random, count),
        InputKind.AfterRelu => Array.ConvertAll(RandomData.Normal(random, count), v => Math.Max(0f, v)),
        _ => Enumerable.Range(0, count).Select(i =>
        {
            int c = layer.Dense ? 0 : (i / (layer.H * layer.W)) % layer.C;
            return (float)(low[c] + ((high[c] - low[c]) * random.NextDouble()));
        }).ToArray(),
    };

    /// <summary>
    /// Draws inputs until every denominator that can cancel (ε, γ) is at least 0.02 in magnitude for both images:
    /// a float32 engine cannot match float64 to 1e-4 on a denominator that cancels to ~1e-4 (conditioning, not a bug).
    /// </summary>
    private static float[] WellConditionedInput(Random random, LayerCase layer, DenseMatrix m, InputKind kind, double[] low, double[] high,
        Func<DenseMatrix, double[], double[]>? denominators)
    {
        for (int attempt = 0; ; attempt++)
        {
            float[] x = Input(random, layer.InLength * Images, kind, layer, low, high);
            if (denominators is null)
            {
                return x;
            }

            bool ok = true;
            for (int img = 0; img < Images && ok; img++)
            {
                double[] a = RandomData.ToDouble(x.AsSpan(img * layer.InLength, layer.InLength));
                ok = denominators(m, a).All(d => Math.Abs(d) >= 0.02);
            }

            if (ok)
            {
                return x;
            }

            Assert.IsTrue(attempt < 200, $"no well-conditioned input found for {layer.Name}");
        }
    }
}
