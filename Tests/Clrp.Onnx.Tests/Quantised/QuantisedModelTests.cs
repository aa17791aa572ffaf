using System.Globalization;
using System.Runtime.InteropServices;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Compiling;
using Clrp.Onnx.Tests.Support;
using Google.Protobuf;
using Clrp.Onnx.Tests.RealModels;
using static Clrp.Onnx.Tests.RealModels.RealModelHarness;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Quantised;

/// <summary>
/// Quantised models (issue 11, part 3), on the two quantised versions of fashion-vgg that
/// <c>scripts/models/quantise_fashion_vgg.py</c> writes: QDQ (int8 per-channel weights, uint8 Q/DQ pairs) and operator
/// format (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd). Both are explained as the float network they simulate.
/// </summary>
[TestClass]
public sealed class QuantisedModelTests
{
    public const string QdqSha256 = "ca57c236a439535cc79ea10d4fdf0f92a899464a09fed96e08706a2e60852a74";
    public const string QopSha256 = "26ddf6f2d762772c7a2a7f1fdf488a5c0710c8a9daff13e5b5693babe3997b24";

    /// <summary>
    /// The quantisation error of the logits: the script's float64 simulation of the quantised arithmetic differs from the
    /// float model by at most 1.84 (mean 0.047) over the first 1,000 Fashion-MNIST test images (logits span −20…22), so
    /// the float network may differ from ONNX Runtime's quantised run by that much, and no more.
    /// </summary>
    public const double QuantisationError = 2.0;

    /// <summary>fashion-vgg's z^B bounds: (0 − 0.2860)/0.3530 and (1 − 0.2860)/0.3530.</summary>
    private static readonly BoxBounds Bounds = new([-0.8102f], [2.0227f]);

    private static readonly string[] Samples = ["fashion-test-0000-ankle-boot.png", "fashion-test-0001-pullover.png", "fashion-test-0002-trouser.png", "fashion-test-0004-shirt.png"];

    public TestContext TestContext { get; set; } = null!;

    private static string Qdq => TestPaths.Model("fashion-vgg-qdq.onnx");

    private static string Qop => TestPaths.Model("fashion-vgg-qop.onnx");

    private static string PathOf(string format) => format == "qdq" ? Qdq : Qop;

    [TestMethod]
    [DataRow("qdq")]
    [DataRow("qop")]
    public void Logits_match_ort_on_the_quantised_file_within_the_quantisation_error(string format)
    {
        string path = PathOf(format);
        Assert.AreEqual(format == "qdq" ? QdqSha256 : QopSha256, Sha256(path), $"{path}: SHA-256 differs from models/README.md");
        Tensor input = SampleBatch();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var explainer = ClrpExplainer.Load(path, Paper(Bounds));
        double loadMs = clock.Elapsed.TotalMilliseconds;
        explainer.Explain(input, Target.Predicted);
        clock.Restart();
        Explanation e = explainer.Explain(input, Target.Predicted);
        double explainMs = clock.Elapsed.TotalMilliseconds;
        AssertFinite(e, input, format);

        float[] quantised = OrtLogits(path, format == "qdq" ? "logits_dq" : "logits", input);
        float[] floatModel = OrtLogits(TestPaths.FashionVgg, "/net/classifier/classifier.4/Gemm_output_0", input);
        double explainerVsQuantised = MaxAbs(e.Logits.Data, quantised), floatVsQuantised = MaxAbs(floatModel, quantised);
        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{format}: explainer vs ORT on the quantised file max |Δlogit| {explainerVsQuantised:F4}; fashion-vgg (float) vs quantised {floatVsQuantised:F4}; load {loadMs:F0} ms, CLRP1 explain (4 images) {explainMs:F0} ms"));
        Assert.IsTrue(explainerVsQuantised <= QuantisationError, $"{format}: logits differ from ONNX Runtime's quantised run by {explainerVsQuantised} > {QuantisationError}");
        Assert.IsTrue(explainerVsQuantised > 0, $"{format}: the explainer ran the quantised arithmetic, not the float network");
        for (int i = 0; i < Samples.Length; i++)
        {
            Assert.AreEqual(ArgMax(quantised.AsSpan(i * 10, 10)), e.TargetClasses[i], $"{format}: {Samples[i]}: predicted class");
        }

        // The README's real-model row: load, one warm CLRP1 explanation of one image (paper rules), ΣR_in/ΣR_out.
        (RealModelFigures figures, Explanation one) = Measure($"fashion-vgg-{format}.onnx", path, Paper(Bounds), SampleBatch(1), Target.Predicted);
        AssertConserved(one, ConservationTolerance, format);
        TestContext.WriteLine(figures.ToString());
    }

    [TestMethod]
    [DataRow("qdq")]
    [DataRow("qop")]
    public void Paper_rules_conserve_relevance_on_the_float_network(string format)
    {
        Tensor input = SampleBatch();
        foreach (ExplainMethod method in new[] { ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Clrp2 })
        {
            Explanation e = ExplainFinite(PathOf(format), new ExplainerOptions { Method = method, Rules = CompositePresets.Paper(Bounds) }, input, Target.Predicted, $"{format} {method}");
            (double target, double dual) = Ratios(e);
            TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{format} paper {method}: ΣR_in/ΣR_out target {target:F6}, dual {dual:F6}"));
            // z^B / z⁺ ignore biases and Clip/MaxPool/Add-of-a-constant pass relevance: nothing absorbs it.
            AssertConserved(e, ConservationTolerance, $"{format} paper {method}");
        }
    }

    [TestMethod]
    [DataRow("qdq", "paper", ExplainMethod.Clrp1)]
    [DataRow("qdq", "epsilon", ExplainMethod.Lrp)]
    [DataRow("qop", "paper", ExplainMethod.Clrp2)]
    [DataRow("qop", "epsilon-gamma-box", ExplainMethod.Clrp1)]
    public void Relevance_equals_the_hand_written_float_network_with_dequantised_weights(string format, string composite, ExplainMethod method)
    {
        string handWritten = Path.Combine(TestPaths.TempDir(), $"fashion-vgg-{format}-float.onnx");
        File.WriteAllBytes(handWritten, (format == "qdq" ? HandWrittenQdqFloat(Qdq) : HandWrittenQopFloat(Qop)).ToByteArray());
        Tensor input = SampleBatch();
        var options = new ExplainerOptions { Method = method, Rules = WithBounds(composite) };

        Explanation quantised = ExplainFinite(PathOf(format), options, input, Target.TopK(2), $"{format} canonized");
        Explanation expected = ExplainFinite(handWritten, options, input, Target.TopK(2), $"{format} hand-written");

        Compare.Close(quantised.Logits.Data, expected.Logits.Data, 1e-6, $"{format}: logits");
        Compare.Close(quantised.Relevance.Data, expected.Relevance.Data, 1e-6, $"{format} {composite} {method}: relevance");
        Directory.Delete(Path.GetDirectoryName(handWritten)!, recursive: true);
    }

    [TestMethod]
    [TestCategory("slow")]
    [DataRow("qdq")]
    [DataRow("qop")]
    public void Both_engines_agree_on_the_canonized_graph(string format)
    {
        Tensor input = SampleBatch(2);
        foreach (string line in ParityHarness.AssertParity(PathOf(format), input, format, ["paper", "epsilon-plus"]))
        {
            TestContext.WriteLine(line);
        }
    }

    [TestMethod]
    public void Inspect_and_info_say_the_float_network_is_explained()
    {
        ModelReport qdq = ClrpExplainer.Inspect(Qdq), qop = ClrpExplainer.Inspect(Qop), plain = ClrpExplainer.Inspect(TestPaths.FashionVgg);
        Assert.AreEqual("quantised model: explained as the float network it simulates (7 QDQ pairs, 0 QLinear ops dequantised, 12 integer weights/biases dequantised; rounding dropped, saturation kept as Clip)", qdq.Quantisation);
        StringAssert.Contains(qop.Quantisation, "(0 QDQ pairs, 8 QLinear ops dequantised, 12 integer weights/biases dequantised;");
        Assert.IsNull(plain.Quantisation);
        Assert.IsTrue(qdq.IsSupported && qop.IsSupported);
        Assert.AreEqual(4, qop.Nodes.Count(n => n.Node.OpType == "Conv" && n.Role.StartsWith("rule ", StringComparison.Ordinal)), "QLinearConv → Conv with a rule");

        CliRun run = CliRun.Of("info", "--model", Qop);
        run.AssertSuccess();
        Assert.AreEqual(1, run.Stdout.Split('\n').Count(l => l.StartsWith("quantised model: explained as the float network it simulates (0 QDQ pairs, 8 QLinear ops", StringComparison.Ordinal)), run.Stdout);
        StringAssert.Contains(CliRun.Of("info", "--model", TestPaths.FashionVgg).Stdout, "opsets:");
        Assert.IsFalse(CliRun.Of("info", "--model", TestPaths.FashionVgg).Stdout.Contains("quantised", StringComparison.Ordinal));
    }

    [TestMethod]
    public void Value_runner_returns_the_explained_float_logits()
    {
        Tensor input = SampleBatch(2);
        using var explainer = ClrpExplainer.Load(Qdq, Paper(Bounds));
        using var runner = Clrp.Onnx.Execution.ValueRunner.Open(Qdq, explainer.LogitsName, Clrp.Onnx.Execution.Device.Cpu);
        Compare.Close(runner.Run(input).Data, explainer.Explain(input, Target.Predicted).Logits.Data, 1e-6, "ablation's forward vs the explainer's logits");
    }

    [TestMethod]
    [DataRow("compiled")]
    [DataRow("managed")]
    public void Cli_explains_a_quantised_model_and_says_what_it_explains(string engine)
    {
        string dir = TestPaths.TempDir();
        string npy = Path.Combine(dir, "relevance.npy"), png = Path.Combine(dir, "heatmap.png");
        CliRun run = CliRun.Of("explain", "--model", Qop, "--input", TestPaths.Model(Path.Combine("samples", Samples[0])), "--mean", "0.2860", "--std", "0.3530",
            "--method", "clrp2", "--engine", engine, "--out", npy, "--heatmap", png);

        run.AssertSuccess();
        StringAssert.Contains(run.Stderr, "quantised model: explained as the float network it simulates (0 QDQ pairs, 8 QLinear ops dequantised");
        Tensor map = NpyFile.Read(npy);
        CollectionAssert.AreEqual(new[] { 1, 28, 28 }, map.Shape.ToArray());
        Assert.IsTrue(map.AllFinite() && map.Data.Any(v => v > 0), "CLRP2 map finite and not all zero");
        Assert.IsTrue(File.Exists(png));
        Directory.Delete(dir, recursive: true);
    }

    [TestMethod]
    [DataRow("weight-not-constant", "QLinearConv", "its weight 'xq' must be a constant integer tensor")]
    [DataRow("missing-zero-point", "QLinearConv", "its output zero point (input 7) is missing")]
    [DataRow("conv-integer", "ConvInteger", "its int32 output must be Cast to float and multiplied by the product of the input's and the weight's scales")]
    [DataRow("qlinear-sigmoid", "QLinearSigmoid", "quantised operator without a float rewrite here")]
    [DataRow("dq-of-computed", "DequantizeLinear", "must be a constant integer tensor (a weight) or the output of a QuantizeLinear or QLinear op, but it is computed otherwise (by 'cast' (Cast))")]
    [DataRow("per-axis-activation", "QuantizeLinear", "activations are quantised per tensor only")]
    [DataRow("int4-weight", "DequantizeLinear", "ClrpMl cannot dequantise")]
    [DataRow("unknown-attribute", "QuantizeLinear", "its attribute 'precision' is not read")]
    public void Bad_quantised_graphs_are_refused_naming_the_node(string kind, string op, string reason)
    {
        string dir = TestPaths.TempDir();
        string path = Path.Combine(dir, kind + ".onnx");
        File.WriteAllBytes(path, BadModel(kind).ToByteArray());
        string node = "bad_" + op;

        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(path));
        Assert.AreEqual(node, e.NodeName, e.Message);
        Assert.AreEqual(op, e.OpType, e.Message);
        StringAssert.Contains(e.Message, reason);
        StringAssert.Contains(e.Message, "quantised model: ");

        // Inspect lists the refusal instead of throwing; the CLI exits 2 with one line naming the node.
        ModelReport report = ClrpExplainer.Inspect(path);
        Assert.IsTrue(report.Nodes.Any(n => !n.Supported && n.Node.Name == node && n.Role.Contains(reason, StringComparison.Ordinal)), string.Join("\n", report.Nodes.Select(n => $"{n.Node.Name}: {n.Role}")));
        string npy = Path.Combine(dir, "x.npy");
        NpyFile.Write(npy, new Tensor(new float[16], [1, 1, 4, 4]));
        CliRun.Of("explain", "--model", path, "--input", npy, "--target", "0", "--method", "lrp", "--rules", "epsilon").AssertBadInput($"node '{node}'", reason);
        Directory.Delete(dir, recursive: true);
    }

    private static ExplainerOptions Paper(BoxBounds bounds) => new() { Method = ExplainMethod.Clrp1, Rules = CompositePresets.Paper(bounds) };

    private static Composites.Composite WithBounds(string composite) => composite switch
    {
        "paper" => CompositePresets.Paper(Bounds),
        "epsilon-gamma-box" => CompositePresets.EpsilonGammaBox(Bounds),
        _ => CompositePresets.ByName(composite),
    };

    /// <summary>The committed Fashion-MNIST test images, normalised as fashion-vgg expects.</summary>
    private static Tensor SampleBatch(int count = 4)
    {
        var data = new List<float>();
        foreach (string file in Samples.Take(count))
        {
            data.AddRange(ImageLoader.Load(TestPaths.Model(Path.Combine("samples", file)), 28, 28, channels: 1, mean: [0.2860f], std: [0.3530f]).Tensor.Data);
        }

        return new Tensor([.. data], [count, 1, 28, 28]);
    }

    /// <summary>ONNX Runtime's <paramref name="value"/> on the file as written (made the graph's only output).</summary>
    private static float[] OrtLogits(string path, string value, Tensor input)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        model.Graph.Output.Clear();
        model.Graph.Output.Add(new ValueInfoProto { Name = value, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = OnnxBuilder.Float } } });
        return OrtOracle.RunOnce(model.ToByteArray(), input.Data, input.Shape).Data;
    }

    private static double MaxAbs(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            best = v[i] > v[best] ? i : best;
        }

        return best;
    }

    // ------------------------------------------------------------------ the float networks, written by hand

    /// <summary>
    /// fashion-vgg as the QDQ file simulates it, written node by node: each Q→DQ pair is the Clip of its uint8 range
    /// [(0 − zp)·s, (255 − zp)·s], each weight (q − zp)·s per output channel, each bias q·s_bias.
    /// </summary>
    private static ModelProto HandWrittenQdqFloat(string quantisedPath)
    {
        var q = new QuantisedFile(quantisedPath);
        var b = new OnnxBuilder(opset: 13).Input("input", "N", 1L, 28L, 28L).Output("probabilities");
        string x = q.Clip(b, "input", "conv0_in");
        string[] convs = ["net.features.0", "net.features.2", "net.features.5", "net.features.7"];
        for (int i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                x = q.Clip(b, x, $"conv{i}_in");
            }

            q.Weight(b, convs[i] + ".weight", convs[i] + ".weight_q", convs[i] + ".weight_scale", convs[i] + ".weight_zp", axis: 0);
            q.Bias(b, convs[i] + ".bias", convs[i] + ".bias_q", convs[i] + ".bias_scale");
            b.Node("Conv", [x, convs[i] + ".weight", convs[i] + ".bias"], [$"c{i}"], OnnxBuilder.Ints("kernel_shape", 3, 3), OnnxBuilder.Ints("pads", 1, 1, 1, 1));
            b.Node("Relu", [$"c{i}"], [$"r{i}"]);
            x = $"r{i}";
            if (i is 1 or 3)
            {
                b.Node("MaxPool", [x], [$"p{i}"], OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2));
                x = $"p{i}";
            }
        }

        b.Node("Flatten", [x], ["flat"], OnnxBuilder.Int("axis", 1));
        x = "flat";
        string[] dense = ["net.classifier.1", "net.classifier.4"];
        for (int i = 0; i < 2; i++)
        {
            x = q.Clip(b, x, $"fc{i}_in");
            q.Weight(b, dense[i] + ".weight", dense[i] + ".weight_q", dense[i] + ".weight_scale", dense[i] + ".weight_zp", axis: 0);
            q.Bias(b, dense[i] + ".bias", dense[i] + ".bias_q", dense[i] + ".bias_scale");
            b.Node("Gemm", [x, dense[i] + ".weight", dense[i] + ".bias"], [$"g{i}"], OnnxBuilder.Int("transB", 1));
            x = $"g{i}";
            if (i == 0)
            {
                b.Node("Relu", [x], ["g0r"]);
                x = "g0r";
            }
        }

        x = q.Clip(b, x, "logits");
        b.Node("Softmax", [x], ["probabilities"], OnnxBuilder.Int("axis", 1));
        return b.Build();
    }

    /// <summary>
    /// fashion-vgg as the operator-format file simulates it: QLinearConv = Conv with weights (q − zp)·s_w and bias
    /// q·s_x·s_w, then the Clip of its output's range (the fused ReLU); QLinearMatMul = MatMul then Clip; QLinearAdd = Add
    /// of the dequantised bias then Clip.
    /// </summary>
    private static ModelProto HandWrittenQopFloat(string quantisedPath)
    {
        var q = new QuantisedFile(quantisedPath);
        var b = new OnnxBuilder(opset: 13).Input("input", "N", 1L, 28L, 28L).Output("probabilities");
        string x = q.Clip(b, "input", "input", scale: "input_scale", zeroPoint: "input_zp");
        string xScale = "input_scale";
        string[] convs = ["net.features.0", "net.features.2", "net.features.5", "net.features.7"];
        for (int i = 0; i < 4; i++)
        {
            q.Weight(b, convs[i] + ".weight", convs[i] + ".weight_q", convs[i] + ".weight_scale", convs[i] + ".weight_zp", axis: 0);
            float sx = q.Floats(xScale)[0];
            float[] sw = q.Floats(convs[i] + ".weight_scale");
            long[] bias = q.Integers(convs[i] + ".bias_q");
            b.Initializer(convs[i] + ".bias", [.. bias.Select((v, c) => v * (sx * sw[c]))], [bias.Length]);
            b.Node("Conv", [x, convs[i] + ".weight", convs[i] + ".bias"], [$"c{i}"], OnnxBuilder.Ints("kernel_shape", 3, 3), OnnxBuilder.Ints("pads", 1, 1, 1, 1));
            x = q.Clip(b, $"c{i}", $"conv{i}_y", scale: $"conv{i}_y_scale", zeroPoint: $"conv{i}_y_zp");
            xScale = $"conv{i}_y_scale";
            if (i is 1 or 3)
            {
                b.Node("MaxPool", [x], [$"p{i}"], OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2));
                x = $"p{i}";
            }
        }

        b.Node("Flatten", [x], ["flat"], OnnxBuilder.Int("axis", 1));
        x = "flat";
        string[] dense = ["net.classifier.1", "net.classifier.4"];
        for (int i = 0; i < 2; i++)
        {
            q.Weight(b, dense[i] + ".weightT", dense[i] + ".weightT_q", dense[i] + ".weight_scale", dense[i] + ".weight_zp", axis: 1);
            b.Node("MatMul", [x, dense[i] + ".weightT"], [$"mm{i}"]);
            x = q.Clip(b, $"mm{i}", $"mm{i}", scale: $"mm{i}_scale", zeroPoint: $"mm{i}_zp");
            q.Weight(b, dense[i] + ".bias", dense[i] + ".bias_q", dense[i] + ".bias_scale", dense[i] + ".bias_zp", axis: 0);
            b.Node("Add", [x, dense[i] + ".bias"], [$"fc{i}"]);
            x = q.Clip(b, $"fc{i}", $"fc{i}", scale: $"fc{i}_scale", zeroPoint: $"fc{i}_zp");
        }

        b.Node("Softmax", [x], ["probabilities"], OnnxBuilder.Int("axis", 1));
        return b.Build();
    }

    /// <summary>The integer and float initializers of a quantised file, read straight from its protobuf.</summary>
    private sealed class QuantisedFile(string path)
    {
        private readonly Dictionary<string, TensorProto> _tensors = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Initializer.ToDictionary(t => t.Name);

        public float[] Floats(string name) => MemoryMarshal.Cast<byte, float>(_tensors[name].RawData.Span).ToArray();

        public long[] Integers(string name)
        {
            TensorProto t = _tensors[name];
            ReadOnlySpan<byte> raw = t.RawData.Span;
            return (TensorProto.Types.DataType)t.DataType switch
            {
                TensorProto.Types.DataType.Int8 => [.. raw.ToArray().Select(v => (long)(sbyte)v)],
                TensorProto.Types.DataType.Uint8 => [.. raw.ToArray().Select(v => (long)v)],
                TensorProto.Types.DataType.Int32 => [.. MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(v => (long)v)],
                var other => throw new InvalidOperationException($"{name}: {other}"),
            };
        }

        /// <summary>Adds <paramref name="name"/> = (q − zp)·s, per index of <paramref name="axis"/> (or per tensor).</summary>
        public void Weight(OnnxBuilder b, string name, string q, string scale, string zeroPoint, int axis)
        {
            long[] values = Integers(q), zp = Integers(zeroPoint);
            float[] s = Floats(scale);
            long[] dims = [.. _tensors[q].Dims];
            int inner = (int)dims.Skip(axis + 1).Aggregate(1L, (p, d) => p * d), count = s.Length;
            b.Initializer(name, [.. values.Select((v, i) => (float)(v - zp[count == 1 ? 0 : i / inner % count]) * s[count == 1 ? 0 : i / inner % count])], dims);
        }

        /// <summary>An int32 bias with its own per-channel scale (QDQ): q·s.</summary>
        public void Bias(OnnxBuilder b, string name, string q, string scale)
        {
            long[] values = Integers(q);
            float[] s = Floats(scale);
            b.Initializer(name, [.. values.Select((v, i) => v * s[i])], [values.Length]);
        }

        /// <summary>Clip(<paramref name="x"/>) to the uint8 range of the quantisation named <paramref name="prefix"/>: [(0 − zp)·s, (255 − zp)·s].</summary>
        public string Clip(OnnxBuilder b, string x, string prefix, string? scale = null, string? zeroPoint = null)
        {
            float s = Floats(scale ?? prefix + "_scale")[0];
            long zp = Integers(zeroPoint ?? prefix + "_zp")[0];
            b.Initializer(prefix + "_lo", [(0 - zp) * s], []);
            b.Initializer(prefix + "_hi", [(255 - zp) * s], []);
            b.Node("Clip", [x, prefix + "_lo", prefix + "_hi"], [prefix + "_clipped"]);
            return prefix + "_clipped";
        }
    }

    // ------------------------------------------------------------------ bad quantised graphs

    /// <summary>A one-layer quantised graph [1,1,4,4] → [1,…] broken in the way <paramref name="kind"/> names; the offending node is "bad_&lt;op&gt;".</summary>
    private static ModelProto BadModel(string kind)
    {
        var b = new OnnxBuilder(opset: 13).Input("input", 1L, 1L, 4L, 4L).Output("y");
        b.Initializer("s", [0.05f], []).Initializer("w_s", [0.01f], []).Initializer("y_s", [0.1f], []);
        ModelProto Finish(Action<GraphProto> extra)
        {
            ModelProto m = b.Build();
            m.Graph.Initializer.Add(Int8("zp", [0], [], TensorProto.Types.DataType.Uint8));
            m.Graph.Initializer.Add(Int8("w_zp", [0], [], TensorProto.Types.DataType.Int8));
            m.Graph.Initializer.Add(Int8("w", [.. Enumerable.Range(0, 9).Select(i => i - 4)], [1, 1, 3, 3], TensorProto.Types.DataType.Int8));
            extra(m.Graph);
            if (m.Graph.Node.Any(n => n.Domain == "com.microsoft"))
            {
                m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
            }

            return m;
        }

        b.Node("QuantizeLinear", ["input", "s", "zp"], ["xq"], "q_in");
        switch (kind)
        {
            case "weight-not-constant":
                b.Node("QLinearConv", ["xq", "s", "zp", "xq", "s", "zp", "y_s", "zp"], ["yq"], "bad_QLinearConv");
                b.Node("DequantizeLinear", ["yq", "y_s", "zp"], ["y"], "dq_out");
                return Finish(_ => { });
            case "missing-zero-point":
                b.Node("QLinearConv", ["xq", "s", "zp", "w", "w_s", "w_zp", "y_s", ""], ["yq"], "bad_QLinearConv");
                b.Node("DequantizeLinear", ["yq", "y_s", "zp"], ["y"], "dq_out");
                return Finish(_ => { });
            case "conv-integer":
                b.Node("ConvInteger", ["xq", "w", "zp", "w_zp"], ["acc"], "bad_ConvInteger");
                b.Node("Cast", ["acc"], ["y"], "cast_out", OnnxBuilder.Int("to", 1));
                return Finish(_ => { });
            case "qlinear-sigmoid":
                b.Node("QLinearSigmoid", ["xq", "s", "zp", "y_s", "zp"], ["yq"], "bad_QLinearSigmoid");
                b.Node("DequantizeLinear", ["yq", "y_s", "zp"], ["y"], "dq_out");
                return Finish(g => g.Node.Single(n => n.OpType == "QLinearSigmoid").Domain = "com.microsoft");
            case "dq-of-computed":
                b.Node("Cast", ["input"], ["xi"], "cast", OnnxBuilder.Int("to", (long)TensorProto.Types.DataType.Int8));
                b.Node("DequantizeLinear", ["xi", "s", "w_zp"], ["xf"], "bad_DequantizeLinear");
                b.Node("Relu", ["xf"], ["y"], "relu");
                return Finish(_ => { });
            case "per-axis-activation":
                b.Initializer("s2", [0.05f, 0.05f], [2]);
                b.Node("QuantizeLinear", ["input", "s2", "zp2"], ["xq2"], "bad_QuantizeLinear", OnnxBuilder.Int("axis", 2));
                b.Node("DequantizeLinear", ["xq2", "s2", "zp2"], ["y"], "dq_out", OnnxBuilder.Int("axis", 2));
                return Finish(g =>
                {
                    g.Initializer.Add(Int8("zp2", [0, 0], [2], TensorProto.Types.DataType.Uint8));
                    g.Node.Remove(g.Node.Single(n => n.Name == "q_in"));
                });
            case "unknown-attribute":
                b.Node("DequantizeLinear", ["xq", "s", "zp"], ["xf"], "dq_in");
                b.Node("Relu", ["xf"], ["y"], "relu");
                return Finish(g =>
                {
                    NodeProto q = g.Node.Single(n => n.Name == "q_in");
                    q.Name = "bad_QuantizeLinear";
                    q.Attribute.Add(OnnxBuilder.Int("precision", 1));
                });
            case "int4-weight":
                b.Node("DequantizeLinear", ["xq", "s", "zp"], ["xf"], "dq_in");
                b.Node("DequantizeLinear", ["w4", "w_s"], ["wf"], "bad_DequantizeLinear");
                b.Node("Conv", ["xf", "wf"], ["y"], "conv");
                return Finish(g => g.Initializer.Add(new TensorProto { Name = "w4", DataType = 22 /* INT4, newer than the proto here */, Dims = { 1, 1, 3, 3 }, RawData = ByteString.CopyFrom(new byte[5]) }));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private static TensorProto Int8(string name, int[] values, long[] dims, TensorProto.Types.DataType type)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom([.. values.Select(v => (byte)(sbyte)v)]) };
        t.Dims.AddRange(dims);
        return t;
    }
}
