using System.Runtime.InteropServices;
using Clrp.Onnx.Canonizers;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Compiling;
using Clrp.Onnx.Tests.Support;
using Google.Protobuf;
using DataType = Clrp.Onnx.Proto.TensorProto.Types.DataType;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Quantised;

/// <summary>
/// <see cref="DequantizeModel"/> on small graphs built in code, with ONNX Runtime on the quantised file as the oracle:
/// weight-only QDQ graphs (the float network then is the model: equal to 1e-5) at opsets 10, 13, 19 and 21 with per-tensor
/// and per-axis scales, zero points, negative axes and int16 weights; activation Q/DQ pairs (equal up to the rounding the
/// float network drops, saturation kept); ONNX Runtime's dynamic quantisation (ConvInteger/MatMulInteger).
/// </summary>
[TestClass]
public sealed class DequantizeModelTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    [DataRow(10L, "per-tensor uint8 with zero point")]
    [DataRow(13L, "per-axis int8")]
    [DataRow(13L, "negative axis")]
    [DataRow(19L, "per-axis int8")]
    [DataRow(21L, "per-axis int16")]
    public void Weight_only_qdq_graph_is_the_float_network_exactly(long opset, string variant)
    {
        string path = Save(WeightOnly(opset, variant), "weights.onnx");
        Tensor input = Input(seed: (int)opset);
        (float[] ort, _) = OrtOracle.RunOnce(File.ReadAllBytes(path), input.Data, input.Shape);

        using var explainer = ClrpExplainer.Load(path, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.Epsilon() });
        Explanation e = explainer.Explain(input, Target.Predicted);

        Compare.Close(e.Logits.Data, ort, 1e-5, $"opset {opset} {variant}: explainer vs ONNX Runtime on the quantised file");
        ModelReport report = ClrpExplainer.Inspect(path);
        StringAssert.Contains(report.Quantisation, "(0 QDQ pairs, 0 QLinear ops dequantised, 4 integer weights/biases dequantised;");
        Assert.IsTrue(report.Nodes.All(n => n.Node.OpType is not ("DequantizeLinear" or "QuantizeLinear")), "no Q/DQ left in the explained graph");
    }

    [TestMethod]
    [DataRow(10L)]
    [DataRow(13L)]
    public void Activation_pair_is_a_clip_that_drops_only_the_rounding(long opset)
    {
        // Q(s = 0.05, zp = 128) saturates at (0 − 128)·0.05 = −6.4 and (255 − 128)·0.05 = 6.35; inputs reach ±9.
        string path = Save(WeightOnly(opset, opset == 10 ? "per-tensor uint8 with zero point" : "per-axis int8", activationPair: true), "pair.onnx");
        Tensor input = Input(seed: 3, scale: 4.0);
        (float[] ort, _) = OrtOracle.RunOnce(File.ReadAllBytes(path), input.Data, input.Shape);
        using var explainer = ClrpExplainer.Load(path, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.Epsilon() });
        Explanation e = explainer.Explain(input, Target.Predicted);

        // Rounding moves each input by at most s/2, so a logit moves by at most s/2 · Σ|∂logit/∂x| ≤ s/2 · ‖W₂‖·‖W₁‖ summed
        // (ReLU only shrinks it); without the saturation the out-of-range inputs would move logits by far more.
        double bound = 0.025 * PathNorm(path);
        double worst = e.Logits.Data.Zip(ort, (a, b) => Math.Abs(a - b)).Max();
        Assert.IsTrue(worst <= bound, $"opset {opset}: max |Δlogit| {worst} > rounding bound {bound}");
        StringAssert.Contains(ClrpExplainer.Inspect(path).Quantisation, "(1 QDQ pairs,");
    }

    [TestMethod]
    public void Dynamic_quantisation_becomes_conv_and_matmul_with_dequantised_weights()
    {
        string path = Save(Dynamic(), "dynamic.onnx");
        Tensor input = Input(seed: 7);
        (float[] ort, _) = OrtOracle.RunOnce(File.ReadAllBytes(path), input.Data, input.Shape);
        string floatPath = Save(DynamicAsFloat(), "dynamic-float.onnx");
        (float[] hand, _) = OrtOracle.RunOnce(File.ReadAllBytes(floatPath), input.Data, input.Shape);

        using var explainer = ClrpExplainer.Load(path, new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = CompositePresets.Paper() });
        Explanation e = explainer.Explain(input, Target.Predicted);
        using var handExplainer = ClrpExplainer.Load(floatPath, new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = CompositePresets.Paper() });
        Explanation expected = handExplainer.Explain(input, Target.Predicted);

        Compare.Close(e.Logits.Data, hand, 1e-6, "explainer vs the float network written by hand");
        Compare.Close(e.Relevance.Data, expected.Relevance.Data, 1e-6, "relevance vs the float network written by hand");
        // 8-bit activations: each layer's input moves by at most half a step of its dynamic range (1/510 of it).
        Compare.Close(e.Logits.Data, ort, 0.02, "explainer vs ONNX Runtime's dynamic quantisation");
        StringAssert.Contains(ClrpExplainer.Inspect(path).Quantisation, "(0 QDQ pairs, 2 QLinear ops dequantised, 2 integer weights/biases dequantised;");
        foreach (string line in ParityHarness.AssertParity(path, Input(seed: 8, batch: 2), "dynamic", ["paper"]))
        {
            Assert.IsFalse(string.IsNullOrEmpty(line));
        }
    }

    [TestMethod]
    public void Contrib_qlinear_ops_become_concat_pooling_and_gemm()
    {
        string path = Save(ContribQLinear(), "contrib.onnx");
        // Inputs on the input's quantisation grid (multiples of x_s = 0.03 inside its range), so only later roundings remain.
        Tensor normal = Input(seed: 9, batch: 2);
        var input = new Tensor([.. normal.Data.Select(v => 0.03f * Math.Clamp(MathF.Round(v / 0.03f), -128, 127))], normal.Shape);
        (float[] ort, _) = OrtOracle.RunOnce(File.ReadAllBytes(path), input.Data, input.Shape);
        using var explainer = ClrpExplainer.Load(path, new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = CompositePresets.Paper() });
        Explanation e = explainer.Explain(input, Target.Predicted);

        // The float network drops the roundings after the input's: the convolutions' (a_s/2 = b_s/2 = 0.025; the concat
        // requantises to the same scale, exactly), the pooling's (g_s/2 = 0.005) and the output's (y_s/2 = 0.005). Clip and
        // the average are 1-Lipschitz, so a logit is off by at most y_s/2 + Σ_k |W_jk|·(0.025 + 0.005).
        OnnxGraph g = DequantizeModel.Apply(OnnxModelReader.Read(path), out _);
        float[] w = g.Constants.Values.Single(c => c.Shape is [3, 5]).AsFloats();
        for (int i = 0; i < ort.Length; i++)
        {
            int j = i % 3;
            double bound = 0.005 + (w.Skip(j * 5).Take(5).Sum(Math.Abs) * 0.03);
            Assert.IsTrue(Math.Abs(e.Logits.Data[i] - ort[i]) <= bound, $"logit {i}: explainer {e.Logits.Data[i]} vs ONNX Runtime {ort[i]}, beyond the rounding bound {bound}; all: {string.Join(' ', e.Logits.Data)} vs {string.Join(' ', ort)}");
        }

        ModelReport report = ClrpExplainer.Inspect(path);
        StringAssert.Contains(report.Quantisation, "(0 QDQ pairs, 5 QLinear ops dequantised,");
        CollectionAssert.IsSubsetOf(new[] { "Concat", "GlobalAveragePool", "Gemm" }, report.Nodes.Select(n => n.Node.OpType).ToArray());
        Assert.IsTrue(report.IsSupported);
        foreach (string line in ParityHarness.AssertParity(path, input, "contrib", ["paper"]))
        {
            Assert.IsFalse(string.IsNullOrEmpty(line));
        }
    }

    [TestMethod]
    public void Float_model_is_returned_unchanged_and_the_input_graph_is_not_mutated()
    {
        OnnxGraph plain = OnnxModelReader.Read(TestPaths.FashionVgg);
        Assert.AreSame(plain, DequantizeModel.Apply(plain, out QuantisationSummary? none));
        Assert.IsNull(none);

        OnnxGraph quantised = OnnxModelReader.Read(TestPaths.Model("fashion-vgg-qdq.onnx"));
        int nodes = quantised.Nodes.Count, protoNodes = quantised.Model.Graph.Node.Count;
        OnnxGraph dequantised = DequantizeModel.Apply(quantised, out QuantisationSummary? summary);
        Assert.IsNotNull(summary);
        Assert.AreEqual(nodes, quantised.Nodes.Count);
        Assert.AreEqual(protoNodes, quantised.Model.Graph.Node.Count);
        Assert.IsFalse(dequantised.Model.Graph.Initializer.Any(t => t.DataType != (int)DataType.Float), "integer initializers left");
    }

    [TestMethod]
    [DataRow("fashion-vgg-qdq.onnx")]
    [DataRow("fashion-vgg-qop.onnx")]
    public void Rewired_quantised_graphs_are_explained_or_refused_with_a_clrp_exception(string file)
    {
        // Every input of every node in turn made empty, or pointed at another value of the graph: the dequantiser must
        // accept the graph or refuse it with a ClrpException, never crash.
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestPaths.Model(file)));
        string[] values = [.. model.Graph.Node.SelectMany(n => n.Output).Concat(model.Graph.Initializer.Select(t => t.Name)).Append("input")];
        var random = new Random(17);
        int accepted = 0, refused = 0;
        for (int n = 0; n < model.Graph.Node.Count; n++)
        {
            for (int i = 0; i < model.Graph.Node[n].Input.Count; i++)
            {
                foreach (string replacement in new[] { string.Empty, values[random.Next(values.Length)] })
                {
                    ModelProto broken = model.Clone();
                    broken.Graph.Node[n].Input[i] = replacement;
                    string path = Path.Combine(_dir, "rewired.onnx");
                    File.WriteAllBytes(path, broken.ToByteArray());
                    try
                    {
                        ClrpExplainer.Inspect(path);
                        accepted++;
                    }
                    catch (ClrpException)
                    {
                        refused++;
                    }
                }
            }
        }

        Assert.IsTrue(accepted + refused > 50, $"{accepted} accepted, {refused} refused");
    }

    private string Save(ModelProto model, string name)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    private static Tensor Input(int seed, double scale = 1.0, int batch = 1) =>
        new(RandomData.Normal(new Random(seed), batch * 2 * 5 * 5, scale), [batch, 2, 5, 5]);

    /// <summary>Σ over paths of |w₂|·|w₁| from the dequantised weights (an upper bound of Σ|∂logit/∂x|).</summary>
    private static double PathNorm(string path)
    {
        OnnxGraph g = DequantizeModel.Apply(OnnxModelReader.Read(path), out _);
        float[] conv = g.Constants.Single(kv => kv.Value.Shape.Length == 4).Value.AsFloats();
        float[] dense = g.Constants.Single(kv => kv.Value.Shape is [3, 27] or [27, 3]).Value.AsFloats();
        return conv.Sum(Math.Abs) * dense.Sum(Math.Abs);
    }

    /// <summary>
    /// input [1,2,5,5] → Conv(DQ(w int, 3×2×3×3), DQ(b int32)) → Relu → Flatten → Gemm(DQ(w₂), DQ(b₂)) [1,3]; with
    /// <paramref name="activationPair"/> a uint8 Q→DQ pair on the input first.
    /// </summary>
    private static ModelProto WeightOnly(long opset, string variant, bool activationPair = false)
    {
        var random = new Random(11);
        var b = new OnnxBuilder(opset: opset, irVersion: opset >= 21 ? 10 : opset >= 19 ? 9 : 7).Input("input", 1L, 2L, 5L, 5L).Output("logits");
        var extra = new List<TensorProto>();
        string x = "input";
        if (activationPair)
        {
            b.Initializer("in_s", [0.05f], []);
            extra.Add(IntTensor("in_zp", [128], [], DataType.Uint8));
            b.Node("QuantizeLinear", ["input", "in_s", "in_zp"], ["in_q"], "q_in");
            b.Node("DequantizeLinear", ["in_q", "in_s", "in_zp"], ["in_dq"], "dq_in");
            x = "in_dq";
        }

        (DataType type, long lo, long hi) = variant.Contains("int16", StringComparison.Ordinal) ? (DataType.Int16, -2000L, 2000L)
            : variant.Contains("uint8", StringComparison.Ordinal) ? (DataType.Uint8, 0L, 255L) : (DataType.Int8, -127L, 127L);
        bool perTensor = variant.StartsWith("per-tensor", StringComparison.Ordinal);
        float unit = type == DataType.Int16 ? 0.0005f : type == DataType.Uint8 ? 0.01f : 0.01f;
        long[] w1 = [.. Enumerable.Range(0, 54).Select(_ => random.NextInt64(lo, hi + 1))];
        long[] w2 = [.. Enumerable.Range(0, 81).Select(_ => random.NextInt64(lo, hi + 1))];
        extra.Add(IntTensor("w1_q", w1, [3, 2, 3, 3], type));
        extra.Add(IntTensor("w2_q", w2, [3, 27], type));
        extra.Add(IntTensor("b1_q", [120, -40, 300], [3], DataType.Int32));
        extra.Add(IntTensor("b2_q", [-50, 0, 75], [3], DataType.Int32));
        AttributeProto[] axis0 = perTensor ? [] : [OnnxBuilder.Int("axis", variant == "negative axis" ? -4 : 0)];
        AttributeProto[] axis0Dense = perTensor ? [] : [OnnxBuilder.Int("axis", variant == "negative axis" ? -2 : 0)];
        if (perTensor)
        {
            b.Initializer("w1_s", [unit], []).Initializer("w2_s", [unit * 0.5f], []).Initializer("b1_s", [0.001f], []).Initializer("b2_s", [0.002f], []);
            extra.Add(IntTensor("w1_zp", [7], [], type));
            extra.Add(IntTensor("w2_zp", [130], [], type));
        }
        else
        {
            b.Initializer("w1_s", [unit, unit * 2, unit * 0.5f], [3]).Initializer("w2_s", [unit * 0.5f, unit, unit * 0.25f], [3]);
            b.Initializer("b1_s", [0.001f, 0.002f, 0.0005f], [3]).Initializer("b2_s", [0.002f, 0.001f, 0.003f], [3]);
            extra.Add(IntTensor("w1_zp", [0, 0, 0], [3], type));
            extra.Add(IntTensor("w2_zp", [0, 0, 0], [3], type));
        }

        b.Node("DequantizeLinear", ["w1_q", "w1_s", "w1_zp"], ["w1"], "dq_w1", axis0);
        b.Node("DequantizeLinear", ["w2_q", "w2_s", "w2_zp"], ["w2"], "dq_w2", axis0Dense);
        b.Node("DequantizeLinear", ["b1_q", "b1_s"], ["b1"], "dq_b1", perTensor ? [] : [OnnxBuilder.Int("axis", 0)]);
        b.Node("DequantizeLinear", ["b2_q", "b2_s"], ["b2"], "dq_b2", perTensor ? [] : [OnnxBuilder.Int("axis", 0)]);
        b.Node("Conv", [x, "w1", "b1"], ["c"], "conv", OnnxBuilder.Ints("kernel_shape", 3, 3));
        b.Node("Relu", ["c"], ["r"], "relu");
        b.Node("Flatten", ["r"], ["f"], "flatten", OnnxBuilder.Int("axis", 1));
        b.Node("Gemm", ["f", "w2", "b2"], ["logits"], "gemm", OnnxBuilder.Int("transB", 1));
        ModelProto m = b.Build();
        m.Graph.Initializer.AddRange(extra);
        return m;
    }

    /// <summary>
    /// Two QLinearConv branches (3×3 and 1×1) → com.microsoft QLinearConcat → QLinearGlobalAveragePool → Flatten (uint8) →
    /// com.microsoft QGemm (transB, per-row weight scales, int32 bias) → DequantizeLinear.
    /// </summary>
    private static ModelProto ContribQLinear()
    {
        var random = new Random(23);
        var b = new OnnxBuilder(opset: 13).Input("input", "N", 2L, 5L, 5L).Output("logits");
        b.Initializer("x_s", [0.03f], []).Initializer("a_s", [0.05f], []).Initializer("b_s", [0.05f], []).Initializer("c_s", [0.05f], [])
            .Initializer("g_s", [0.01f], []).Initializer("y_s", [0.01f], []);
        b.Initializer("wa_s", [0.01f, 0.02f, 0.015f], [3]).Initializer("wb_s", [0.02f, 0.01f], [2]).Initializer("wg_s", [0.01f, 0.012f, 0.008f], [3]);
        var extra = new List<TensorProto>
        {
            IntTensor("zp", [128], [], DataType.Uint8),
            IntTensor("wa", [.. Enumerable.Range(0, 54).Select(_ => random.NextInt64(-100, 101))], [3, 2, 3, 3], DataType.Int8),
            IntTensor("wb", [.. Enumerable.Range(0, 4).Select(_ => random.NextInt64(-100, 101))], [2, 2, 1, 1], DataType.Int8),
            IntTensor("wg", [.. Enumerable.Range(0, 15).Select(_ => random.NextInt64(-100, 101))], [3, 5], DataType.Int8),
            IntTensor("wa_zp", [0, 0, 0], [3], DataType.Int8),
            IntTensor("wb_zp", [0, 0], [2], DataType.Int8),
            IntTensor("wg_zp", [0, 0, 0], [3], DataType.Int8),
            IntTensor("ba", [100, -200, 50], [3], DataType.Int32),
            IntTensor("bg", [3000, -2000, 1000], [3], DataType.Int32),
        };
        b.Node("QuantizeLinear", ["input", "x_s", "zp"], ["xq"], "q_in");
        b.Node("QLinearConv", ["xq", "x_s", "zp", "wa", "wa_s", "wa_zp", "a_s", "zp", "ba"], ["aq"], "conv_a", OnnxBuilder.Ints("kernel_shape", 3, 3), OnnxBuilder.Ints("pads", 1, 1, 1, 1));
        b.Node("QLinearConv", ["xq", "x_s", "zp", "wb", "wb_s", "wb_zp", "b_s", "zp"], ["bq"], "conv_b", OnnxBuilder.Ints("kernel_shape", 1, 1));
        b.Node("QLinearConcat", ["c_s", "zp", "aq", "a_s", "zp", "bq", "b_s", "zp"], ["cq"], "concat", OnnxBuilder.Int("axis", 1));
        b.Node("QLinearGlobalAveragePool", ["cq", "c_s", "zp", "g_s", "zp"], ["gq"], "gap", OnnxBuilder.Int("channels_last", 0));
        b.Node("Flatten", ["gq"], ["fq"], "flatten", OnnxBuilder.Int("axis", 1));
        b.Node("QGemm", ["fq", "g_s", "zp", "wg", "wg_s", "wg_zp", "bg", "y_s", "zp"], ["yq"], "gemm", OnnxBuilder.Int("transB", 1));
        b.Node("DequantizeLinear", ["yq", "y_s", "zp"], ["logits"], "dq_out");
        ModelProto m = b.Build();
        m.Graph.Initializer.AddRange(extra);
        foreach (NodeProto node in m.Graph.Node.Where(n => n.OpType is "QLinearConcat" or "QLinearGlobalAveragePool" or "QGemm"))
        {
            node.Domain = "com.microsoft";
        }

        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return m;
    }

    /// <summary>What onnxruntime.quantization.quantize_dynamic writes for Conv → Relu → Flatten → MatMul (+ biases).</summary>
    private static ModelProto Dynamic()
    {
        var b = new OnnxBuilder(opset: 13).Input("input", "N", 2L, 5L, 5L).Output("logits");
        DynamicWeights(b, out List<TensorProto> extra);
        b.Node("DynamicQuantizeLinear", ["input"], ["x_q", "x_s", "x_zp"], "dql1");
        b.Node("ConvInteger", ["x_q", "w1_q", "x_zp", "w1_zp"], ["c_int"], "conv_integer", OnnxBuilder.Ints("kernel_shape", 3, 3));
        b.Node("Cast", ["c_int"], ["c_cast"], "cast1", OnnxBuilder.Int("to", 1));
        b.Node("Mul", ["x_s", "w1_s"], ["c_scale"], "scale1");
        b.Node("Mul", ["c_cast", "c_scale"], ["c_raw"], "mul1");
        b.Node("Add", ["c_raw", "b1"], ["c"], "bias1");
        b.Node("Relu", ["c"], ["r"], "relu");
        b.Node("Flatten", ["r"], ["f"], "flatten", OnnxBuilder.Int("axis", 1));
        b.Node("DynamicQuantizeLinear", ["f"], ["f_q", "f_s", "f_zp"], "dql2");
        b.Node("MatMulInteger", ["f_q", "w2_q", "f_zp", "w2_zp"], ["m_int"], "matmul_integer");
        b.Node("Cast", ["m_int"], ["m_cast"], "cast2", OnnxBuilder.Int("to", 1));
        b.Node("Mul", ["f_s", "w2_s"], ["m_scale"], "scale2");
        b.Node("Mul", ["m_cast", "m_scale"], ["m_raw"], "mul2");
        b.Node("Add", ["m_raw", "b2"], ["logits"], "bias2");
        ModelProto m = b.Build();
        m.Graph.Initializer.AddRange(extra);
        return m;
    }

    /// <summary>The float network <see cref="Dynamic"/> simulates, written by hand: weights (q − zp)·s.</summary>
    private static ModelProto DynamicAsFloat()
    {
        var b = new OnnxBuilder(opset: 13).Input("input", "N", 2L, 5L, 5L).Output("logits");
        DynamicWeights(b, out List<TensorProto> extra);
        float[] w1 = [.. Values(extra, "w1_q").Select(v => (float)(v - 128) * 0.01f)];
        float[] w2 = [.. Values(extra, "w2_q").Select(v => (float)(v - 128) * 0.005f)];
        b.Initializer("w1", w1, [3, 2, 3, 3]).Initializer("w2", w2, [27, 3]);
        b.Node("Conv", ["input", "w1"], ["c_raw"], "conv", OnnxBuilder.Ints("kernel_shape", 3, 3));
        b.Node("Add", ["c_raw", "b1"], ["c"], "bias1");
        b.Node("Relu", ["c"], ["r"], "relu");
        b.Node("Flatten", ["r"], ["f"], "flatten", OnnxBuilder.Int("axis", 1));
        b.Node("MatMul", ["f", "w2"], ["m_raw"], "matmul");
        b.Node("Add", ["m_raw", "b2"], ["logits"], "bias2");
        return b.Build();
    }

    /// <summary>uint8 weights with zero point 128, per-tensor scales 0.01 and 0.005, float biases.</summary>
    private static void DynamicWeights(OnnxBuilder b, out List<TensorProto> extra)
    {
        var random = new Random(5);
        extra =
        [
            IntTensor("w1_q", [.. Enumerable.Range(0, 54).Select(_ => random.NextInt64(60, 200))], [3, 2, 3, 3], DataType.Uint8),
            IntTensor("w2_q", [.. Enumerable.Range(0, 81).Select(_ => random.NextInt64(60, 200))], [27, 3], DataType.Uint8),
            IntTensor("w1_zp", [128], [], DataType.Uint8),
            IntTensor("w2_zp", [128], [], DataType.Uint8),
        ];
        b.Initializer("w1_s", [0.01f], []).Initializer("w2_s", [0.005f], []);
        b.Initializer("b1", [0.1f, -0.2f, 0.05f], [3, 1, 1]).Initializer("b2", [0.3f, 0f, -0.1f], [3]);
    }

    private static long[] Values(List<TensorProto> tensors, string name) => [.. tensors.Single(t => t.Name == name).RawData.Select(v => (long)v)];

    private static TensorProto IntTensor(string name, long[] values, long[] dims, DataType type)
    {
        byte[] raw = type switch
        {
            DataType.Int8 => [.. values.Select(v => (byte)(sbyte)v)],
            DataType.Uint8 => [.. values.Select(v => (byte)v)],
            DataType.Int16 => MemoryMarshal.AsBytes(values.Select(v => (short)v).ToArray().AsSpan()).ToArray(),
            DataType.Int32 => MemoryMarshal.AsBytes(values.Select(v => (int)v).ToArray().AsSpan()).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(dims);
        return t;
    }
}
