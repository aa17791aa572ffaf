using Clrp.Onnx.Algebra;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// 1-D ([N,C,L]: audio, ECG, text) and 3-D ([N,C,D,H,W]: volumes, video) Conv, ConvTranspose and pools. The oracle is ONNX
/// Runtime running the original node: a one-layer model <c>y = Jx + b</c> gives its exact Jacobian J and bias b, written out
/// as a float64 <see cref="DenseMatrix"/>, and every rule's literal formula (<see cref="DenseReference"/>) is evaluated on it.
/// Nothing of the engine's window arithmetic is shared with the oracle.
/// </summary>
[TestClass]
public sealed class ConvNdTests
{
    private const double Tolerance = 1e-4;

    /// <summary>A one-node layer: op, input shape per image, weight shape, attributes "name=v,v;…".</summary>
    public sealed record LayerCase(string Name, string Op, int[] Input, long[] Weight, int Group, string Settings);

    private static readonly LayerCase[] Layers =
    [
        new("conv1d-stride2-pads", "Conv", [3, 11], [4, 3, 3], 1, "strides=2;pads=1,2"),
        new("conv1d-depthwise-dilated", "Conv", [4, 10], [4, 1, 3], 4, "dilations=2;pads=2,1"),
        new("conv1d-same-lower-stride2", "Conv", [2, 9], [3, 2, 4], 1, "strides=2;auto_pad=SAME_LOWER"),
        new("conv3d-stride-pads-dilated", "Conv", [2, 4, 5, 4], [3, 2, 2, 3, 3], 1, "strides=1,2,1;pads=0,1,1,1,1,0;dilations=1,1,2"),
        new("conv3d-groups-same-upper", "Conv", [4, 3, 5, 5], [4, 2, 2, 2, 2], 2, "strides=1,2,2;auto_pad=SAME_UPPER"),
        new("conv3d-valid", "Conv", [2, 3, 4, 4], [2, 2, 2, 3, 2], 1, "strides=2,1,1;auto_pad=VALID"),
        new("convtranspose1d-stride2-outpad", "ConvTranspose", [3, 6], [3, 2, 3], 1, "strides=2;pads=1,0;output_padding=1"),
        new("convtranspose3d-stride2", "ConvTranspose", [2, 2, 3, 3], [2, 2, 2, 2, 2], 1, "strides=2,2,1;pads=0,1,0,0,0,1"),
    ];

    public static IEnumerable<object[]> RuleCases() =>
        from rule in new[] { "epsilon", "zplus", "alpha2-beta1", "gamma", "zbox", "wsquare", "flat", "gradient" }
        from layer in Layers
        select new object[] { rule, layer.Name };

    [TestMethod]
    [DynamicData(nameof(RuleCases))]
    public void Rule_on_1d_and_3d_layer_matches_float64_formula_on_ORTs_Jacobian(string rule, string layerName)
    {
        LayerCase layer = Layers.Single(l => l.Name == layerName);
        byte[] model = LayerModel(layer, withBias: rule != "zbox");
        int d = layer.Input.Aggregate(1, (a, b) => a * b);
        double[,] jacobian = CoverageHarness.Jacobian(model, layer.Input);
        (float[] y0, int[] outShape) = OrtOracle.RunOnce(model, new float[d], [1, .. layer.Input]);
        DenseMatrix m = Matrix(jacobian, y0, layer.Input, withBias: rule != "zbox");

        var random = new Random(layerName.Length + rule.Length);
        (double[] low, double[] high) = (Enumerable.Repeat(-1.5, layer.Input[0]).ToArray(), Enumerable.Repeat(2.0, layer.Input[0]).ToArray());
        float[] x = rule switch
        {
            "zbox" => RandomData.Uniform(random, d, -1.5, 2.0),
            "zplus" or "gamma" => Array.ConvertAll(RandomData.Normal(random, d), v => Math.Max(0f, v)),
            _ => RandomData.Normal(random, d),
        };
        float[] r = RandomData.Normal(random, m.Out);

        OnnxGraph graph = OnnxModelReader.Read(model, layer.Name);
        Node node = graph.Nodes.Single(n => n.OpType == layer.Op);
        using var propagator = (IDisposable)OperatorRegistry.Default.Create(node, graph);
        (ILinearKernel kernel, LinearLayer linear) = ((ILinearPropagator)propagator).KernelFor(layer.Input);
        Assert.AreEqual(outShape[1], kernel.OutputShape.Aggregate(1, (p, v) => p * v), $"{layer.Name}: output size vs ORT");

        var input = new Tensor(x, [1, .. layer.Input]);
        var alg = new EagerAlgebra(new Dictionary<string, Tensor> { ["x"] = input }, [0], 1, null, null, null);
        RelValue rows = alg.RowsOf(new Tensor(r, [1, .. kernel.OutputShape]));
        Tensor z = kernel.Forward(input, linear.Weights);
        if (linear.Bias is not null)
        {
            kernel.AddBias(z, linear.Bias);
        }

        Compare.Close(z.Data, OrtOracle.RunOnce(model, x, [1, .. layer.Input]).Data, 1e-5, $"{layer.Name}: kernel forward vs ORT");
        double[] a = RandomData.ToDouble(x);
        double[] rr = RandomData.ToDouble(r);
        Tensor actual;
        double[] expected;
        if (rule == "gradient")
        {
            actual = EagerAlgebra.TensorOf(alg.Adjoint(kernel, rows, linear.Weights));
            expected = DenseReference.Gradient(m, rr);
        }
        else
        {
            (LinearRule engineRule, expected) = rule switch
            {
                "epsilon" => ((LinearRule)new EpsilonRule(), DenseReference.Epsilon(m, a, rr, 1e-6f)),
                "zplus" => (new ZPlusRule(), DenseReference.ZPlus(m, a, rr)),
                "alpha2-beta1" => (new AlphaBetaRule(2f, 1f), DenseReference.AlphaBeta(m, a, rr, 2, 1)),
                "gamma" => (new GammaRule(), DenseReference.Gamma(m, a, rr, 0.25)),
                "zbox" => (new ZBoxRule(), DenseReference.ZBox(m, a, rr, low, high)),
                "wsquare" => (new WSquareRule(), DenseReference.WSquare(m, rr)),
                "flat" => (new FlatRule(), DenseReference.Flat(m, rr)),
                _ => throw new ArgumentException(rule),
            };
            var bounds = new BoxBounds(Array.ConvertAll(low, v => (float)v), Array.ConvertAll(high, v => (float)v));
            var inputs = new RuleInputs(engineRule is ZBoxRule ? bounds : null, null, InputNonNegative: false);
            actual = EagerAlgebra.TensorOf(LinearRuleEngine.Propagate(alg, engineRule, kernel, linear, alg.Activation("x"), inputs, rows));
        }

        Compare.Close(actual.Data, expected, Tolerance, $"{rule} on {layer.Name}");
    }

    [TestMethod]
    [DataRow("avgpool1d", "AveragePool", new[] { 3, 10 }, "kernel_shape=3;strides=2;pads=1,1")]
    [DataRow("avgpool1d-include-pad-ceil", "AveragePool", new[] { 2, 9 }, "kernel_shape=2;strides=2;pads=1,0;count_include_pad=1;ceil_mode=1")]
    [DataRow("avgpool1d-same-upper", "AveragePool", new[] { 2, 7 }, "kernel_shape=3;strides=2;auto_pad=SAME_UPPER")]
    [DataRow("avgpool3d", "AveragePool", new[] { 2, 4, 4, 5 }, "kernel_shape=2,2,3;strides=2,2,1;pads=0,1,1,0,0,1")]
    [DataRow("avgpool3d-include-pad", "AveragePool", new[] { 1, 3, 4, 4 }, "kernel_shape=2,3,2;strides=1,2,2;pads=1,1,0,0,1,1;count_include_pad=1")]
    [DataRow("globalavg1d", "GlobalAveragePool", new[] { 3, 7 }, "")]
    [DataRow("globalavg3d", "GlobalAveragePool", new[] { 2, 3, 4, 2 }, "")]
    public void Average_pools_1d_and_3d_match_ORTs_Jacobian(string name, string op, int[] shape, string settings)
    {
        byte[] model = new OnnxBuilder(13).Input("x", ["N", .. shape.Select(s => (object)(long)s)])
            .Node(op, ["x"], ["p"], "pool", Attributes(settings)).Node("Flatten", ["p"], ["y"]).Output("y").ToBytes();
        float[] x = CoverageHarness.Positive(shape.Sum(), shape.Aggregate(1, (a, b) => a * b));
        CoverageHarness.AssertLinearOp(model, x, shape, name);
    }

    [TestMethod]
    [DataRow("maxpool1d", "MaxPool", new[] { 3, 11 }, "kernel_shape=3;strides=2;pads=1,1")]
    [DataRow("maxpool1d-dilated-ceil", "MaxPool", new[] { 2, 10 }, "kernel_shape=2;strides=3;dilations=2;ceil_mode=1")]
    [DataRow("maxpool3d", "MaxPool", new[] { 2, 4, 5, 4 }, "kernel_shape=2,3,2;strides=2,2,2;pads=0,1,0,1,1,1")]
    [DataRow("maxpool3d-same-lower", "MaxPool", new[] { 1, 3, 4, 5 }, "kernel_shape=2,2,2;strides=2,1,2;auto_pad=SAME_LOWER")]
    [DataRow("globalmax1d", "GlobalMaxPool", new[] { 3, 9 }, "")]
    [DataRow("globalmax3d", "GlobalMaxPool", new[] { 2, 3, 3, 2 }, "")]
    public void Max_pools_1d_and_3d_winner_takes_all_by_ORTs_finite_differences(string name, string op, int[] shape, string settings)
    {
        byte[] model = new OnnxBuilder(13).Input("x", ["N", .. shape.Select(s => (object)(long)s)])
            .Node(op, ["x"], ["p"], "pool", Attributes(settings)).Node("Flatten", ["p"], ["y"]).Output("y").ToBytes();
        int d = shape.Aggregate(1, (a, b) => a * b);
        float[] x = Enumerable.Range(0, d).Select(i => (float)(((i * 37) % d) - (d / 2)) * 0.1f).ToArray(); // distinct: no ties
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, .. shape]);
        Explanation lrp = CoverageHarness.Lrp(model, x, [1, .. shape], Target.TopK(y.Length));
        Explanation grad = CoverageHarness.Gradient(model, x, [1, .. shape], Target.TopK(y.Length));
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"{name}: logits vs ORT");
        using var oracle = new OrtOracle(model);
        for (int k = 0; k < y.Length; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            double[] fd = oracle.FiniteDifferenceGradient(x, [1, .. shape], j, 0.01f);
            Compare.Close(lrp.Relevance.Data.AsSpan(k * d, d), fd.Select(g => g * Math.Abs(y[j])).ToArray(), 1e-3, $"{name}: relevance of output {j} goes to its window's maximum");
            int gk = Enumerable.Range(0, y.Length).First(q => grad.TargetClassOf(0, q) == j);
            Compare.Close(grad.Relevance.Data.AsSpan(gk * d, d), fd, 1e-3, $"{name}: gradient of output {j} vs ORT finite differences");
        }
    }

    /// <summary>x → op(W, B) → Flatten; W and B seeded.</summary>
    internal static byte[] LayerModel(LayerCase layer, bool withBias)
    {
        int outChannels = layer.Op == "Conv" ? (int)layer.Weight[0] : (int)layer.Weight[1] * layer.Group;
        long count = layer.Weight.Aggregate(1L, (p, v) => p * v);
        var random = new Random(layer.Name.Length);
        var builder = new OnnxBuilder(13).Input("x", ["N", .. layer.Input.Select(s => (object)(long)s)])
            .Initializer("w", RandomData.Normal(random, (int)count), layer.Weight)
            .Initializer("b", RandomData.Normal(random, outChannels), [outChannels]);
        string[] inputs = withBias ? ["x", "w", "b"] : ["x", "w"];
        return builder.Node(layer.Op, inputs, ["c"], "layer", [.. Attributes(layer.Settings), OnnxBuilder.Int("group", layer.Group)])
            .Node("Flatten", ["c"], ["y"]).Output("y").ToBytes();
    }

    /// <summary>"strides=2;pads=1,2;auto_pad=SAME_UPPER" as ONNX attributes.</summary>
    internal static Proto.AttributeProto[] Attributes(string settings) =>
        settings.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(s =>
        {
            string[] kv = s.Split('=');
            return kv[1].Any(char.IsLetter) ? OnnxBuilder.String(kv[0], kv[1])
                : kv[0] is "count_include_pad" or "ceil_mode" ? OnnxBuilder.Int(kv[0], long.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture))
                : OnnxBuilder.Ints(kv[0], kv[1].Split(',').Select(v => long.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }).ToArray();

    /// <summary>The layer as a matrix from ORT's Jacobian and bias; connected where J ≠ 0 (seeded weights have no exact zeros).</summary>
    private static DenseMatrix Matrix(double[,] jacobian, float[] y0, int[] inputShape, bool withBias)
    {
        int outputs = jacobian.GetLength(0), inputs = jacobian.GetLength(1);
        var m = new DenseMatrix(outputs, inputs);
        int perChannel = inputs / inputShape[0];
        for (int i = 0; i < inputs; i++)
        {
            m.InputChannel[i] = i / perChannel;
        }

        for (int j = 0; j < outputs; j++)
        {
            for (int i = 0; i < inputs; i++)
            {
                m.W[(j * inputs) + i] = jacobian[j, i];
                m.Connected[(j * inputs) + i] = jacobian[j, i] != 0;
            }
        }

        m.Bias = withBias ? Array.ConvertAll(y0, v => (double)v) : null;
        return m;
    }
}
