using System.Globalization;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using DataType = Clrp.Onnx.Proto.TensorProto.Types.DataType;

namespace Clrp.Onnx.Canonizers;

/// <summary>What <see cref="DequantizeModel"/> did to a quantised model (null when the model holds no quantisation).</summary>
/// <param name="QdqPairs">QuantizeLinear → DequantizeLinear pairs on activations, replaced by the saturation Clip they imply.</param>
/// <param name="QLinearOps">QLinearConv/QLinearMatMul/QGemm/QLinearAdd/QLinearGlobalAveragePool/QLinearConcat nodes rewritten as float ops.</param>
/// <param name="DequantisedConstants">Constant integer tensors (weights, biases) dequantised to float initializers.</param>
internal sealed record QuantisationSummary(int QdqPairs, int QLinearOps, int DequantisedConstants)
{
    /// <summary>The one line <c>clrp info</c> and <see cref="Explaining.ModelReport.Quantisation"/> show.</summary>
    public override string ToString() =>
        $"quantised model: explained as the float network it simulates ({QdqPairs} QDQ pairs, {QLinearOps} QLinear ops dequantised, {DequantisedConstants} integer weights/biases dequantised; rounding dropped, saturation kept as Clip)";
}

/// <summary>
/// Turns a statically quantised model into the float network it simulates, so that the explainer (both engines) and
/// ONNX Runtime run plain Conv/Gemm/MatMul with float weights that the linear rules handle.
/// <list type="bullet">
/// <item>QDQ format: <c>DequantizeLinear(q, s, zp)</c> of a constant integer tensor (int8/uint8/int16/uint16, int32 biases;
/// per tensor, or per axis with <c>axis</c>) becomes the float initializer <c>(q − zp)·s</c>, computed as ONNX Runtime
/// does (<c>(float)(q − zp) · s</c>), so the weights are bit-identical to the quantised model's.</item>
/// <item><c>DequantizeLinear(QuantizeLinear(a, s, zp))</c> on an activation becomes <c>Clip(a, (q_min − zp)·s, (q_max − zp)·s)</c>:
/// the float network keeps the saturation (it is how quantisers fuse a ReLU into a zero point of 0) and drops the
/// rounding. Clip passes relevance unchanged, as every element-wise activation does.</item>
/// <item>Operator format: <c>QLinearConv</c> → Conv, <c>QLinearMatMul</c> → MatMul, com.microsoft <c>QGemm</c> → Gemm,
/// <c>QLinearAdd</c> → Add, <c>QLinearGlobalAveragePool</c> → GlobalAveragePool, <c>QLinearConcat</c> → Concat, each on
/// the float values of its inputs with dequantised constants (an int32 bias with scale <c>s_x·s_w</c>), followed by the
/// Clip of its output's quantisation; MaxPool/Flatten/Reshape/Transpose/Squeeze/Unsqueeze on integer tensors run on the
/// float values (they commute with dequantisation).</item>
/// <item>Dynamic quantisation (onnxruntime.quantization.quantize_dynamic): <c>Mul(Cast(ConvInteger(DynamicQuantizeLinear(x),
/// w, x_zp, w_zp)), Mul(x_scale, w_scale))</c> → <c>Conv(x, (w − w_zp)·w_scale)</c>, likewise MatMulInteger → MatMul.</item>
/// </list>
/// The result is a new model protobuf: the runtime executes the float network, so the explainer's logits are the
/// float network's (they differ from ONNX Runtime's on the quantised file by the quantisation error). Refused, naming
/// the node: integer ops outside the quantize_dynamic pattern, 4-bit/float8 and blocked quantisation, quantised weights that are not constants, per-axis
/// quantisation of activations, missing zero points where the op requires them, and other quantised operators.
/// Pure: returns a new graph; the input graph is unchanged.
/// </summary>
internal static class DequantizeModel
{
    private const string NoRewrite = "quantised operator without a float rewrite here; dequantised are QuantizeLinear/DequantizeLinear, QLinearConv, QLinearMatMul, QGemm, QLinearAdd, QLinearGlobalAveragePool, QLinearConcat, and ConvInteger/MatMulInteger as quantize_dynamic writes them";

    /// <summary>Quantised operators with no float rewrite here: refused by name.</summary>
    private static readonly Dictionary<string, string> Refused = new(StringComparer.Ordinal)
    {
        ["QLinearMul"] = NoRewrite,
        ["QLinearSigmoid"] = NoRewrite,
        ["QLinearLeakyRelu"] = NoRewrite,
        ["QLinearAveragePool"] = NoRewrite,
        ["QLinearSoftmax"] = NoRewrite,
        ["QAttention"] = "quantised attention multiplies two activations, which is outside ClrpMl's CNN scope",
    };

    /// <summary>Ops that commute with dequantisation (they move or select values): on an integer tensor they run on its float value.</summary>
    private static readonly HashSet<string> Commuting = new(StringComparer.Ordinal)
    {
        "MaxPool", "GlobalMaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity",
    };

    /// <summary>A quantised activation: its float value's name and its quantisation.</summary>
    private sealed record QValue(string Float, float Scale, long ZeroPoint, DataType Type, string ScaleName, string ZeroPointName);

    /// <summary>
    /// The float network <paramref name="graph"/> simulates, with <paramref name="summary"/> saying what changed; the graph
    /// itself (and a null summary) when it holds no quantised operators.
    /// </summary>
    /// <exception cref="UnsupportedOperatorException">A quantised node that cannot be dequantised, named with the reason.</exception>
    public static OnnxGraph Apply(OnnxGraph graph, out QuantisationSummary? summary)
    {
        ArgumentNullException.ThrowIfNull(graph);
        summary = null;
        if (!graph.Nodes.Any(IsQuantisedOp))
        {
            return graph;
        }

        return new Rewriter(graph).Run(out summary);
    }

    private static bool IsQuantisedOp(Node n) =>
        n.OpType is "QuantizeLinear" or "DequantizeLinear" or "QLinearConv" or "QLinearMatMul" or "QGemm" or "QLinearAdd" or "QLinearGlobalAveragePool" or "QLinearConcat"
            or "DynamicQuantizeLinear" or "ConvInteger" or "MatMulInteger"
        || Refused.ContainsKey(n.OpType);

    private sealed class Rewriter
    {
        private readonly OnnxGraph _graph;
        private readonly ModelProto _model;
        private readonly Dictionary<string, NodeProto> _protoOf = new(StringComparer.Ordinal);
        private readonly Dictionary<string, DataType> _typeOf = new(StringComparer.Ordinal);
        private readonly Dictionary<string, QValue> _quantised = new(StringComparer.Ordinal);
        private readonly List<NodeProto> _nodes = [];
        private readonly List<TensorProto> _initializers = [];
        private readonly HashSet<string> _materialised = new(StringComparer.Ordinal);
        /// <summary>DynamicQuantizeLinear outputs: the uint8 value → (its float input, its run-time scale's name).</summary>
        private readonly Dictionary<string, (string Float, string Scale)> _dynamic = new(StringComparer.Ordinal);
        /// <summary>Cast and Mul nodes folded into a ConvInteger/MatMulInteger rewrite.</summary>
        private readonly HashSet<string> _absorbed = new(StringComparer.Ordinal);
        private readonly long _opset;
        private int _pairs, _qlinear, _constants;

        public Rewriter(OnnxGraph graph)
        {
            _graph = graph;
            _model = graph.Model;
            _opset = graph.Opsets.TryGetValue(string.Empty, out long v) ? v : 1;
            // The reader's unique node names, given the same way (file order, "<op>_<index>" for an empty name, "_k" for a repeat).
            var usedNames = new HashSet<string>(StringComparer.Ordinal);
            for (int index = 0; index < _model.Graph.Node.Count; index++)
            {
                NodeProto p = _model.Graph.Node[index];
                string name = string.IsNullOrEmpty(p.Name) ? $"{p.OpType}_{index}" : p.Name;
                string unique = name;
                for (int k = 1; !usedNames.Add(unique); k++)
                {
                    unique = $"{name}_{k}";
                }

                _protoOf[unique] = p;

                if (p.OpType == "Constant" && p.Attribute.FirstOrDefault(a => a.Name == "value")?.T is TensorProto t && p.Output.Count == 1)
                {
                    _typeOf[p.Output[0]] = (DataType)t.DataType;
                }
            }

            foreach (TensorProto t in _model.Graph.Initializer)
            {
                _typeOf[t.Name] = (DataType)t.DataType;
            }
        }

        public OnnxGraph Run(out QuantisationSummary summary)
        {
            foreach (Node node in _graph.Nodes)
            {
                Rewrite(node);
            }

            foreach (ValueInfo output in _graph.Outputs)
            {
                Materialise(output.Name);
            }

            summary = new QuantisationSummary(_pairs, _qlinear, _constants);
            return OnnxModelReader.FromProto(BuildModel(), _graph.Source);
        }

        private void Rewrite(Node node)
        {
            if (!_protoOf.TryGetValue(node.Name, out NodeProto? proto))
            {
                throw new InvalidGraphException($"{_graph.Source}: node '{node.Name}' ({node.OpType}) has no counterpart in the model's protobuf.");
            }

            if (_absorbed.Contains(node.Name))
            {
                return;
            }

            if (Refused.TryGetValue(node.OpType, out string? why))
            {
                throw Fail(node, why);
            }

            if (IsQuantisedOp(node) && (node.Outputs.Count == 0 || node.Outputs[0].Length == 0))
            {
                throw Fail(node, "it has no output");
            }

            switch (node.OpType)
            {
                case "QuantizeLinear" when node.Domain is "" or "com.microsoft":
                    Quantize(node);
                    return;
                case "DequantizeLinear" when node.Domain is "" or "com.microsoft":
                    Dequantize(node);
                    return;
                case "DynamicQuantizeLinear" when node.Domain.Length == 0:
                    // Kept as is (dropped later when nothing reads it): the integer op below reads its float input instead.
                    _dynamic[node.Outputs[0]] = (node.Input(0), node.Outputs.Count > 1 ? node.Outputs[1] : string.Empty);
                    Emit(proto.Clone());
                    return;
                case "ConvInteger" or "MatMulInteger" when node.Domain.Length == 0:
                    IntegerOp(node);
                    return;
                case "QLinearConv" when node.Domain.Length == 0:
                    Linear(node, "Conv", a: 0, w: 3, y: 6, bias: node.Input(8), keepAttributes: true);
                    return;
                case "QLinearMatMul" when node.Domain.Length == 0:
                    Linear(node, "MatMul", a: 0, w: 3, y: 6, bias: string.Empty, keepAttributes: false);
                    return;
                case "QGemm" when node.Domain == "com.microsoft":
                    Linear(node, "Gemm", a: 0, w: 3, y: 7, bias: node.Input(6), keepAttributes: true);
                    return;
                case "QLinearAdd" when node.Domain == "com.microsoft":
                    Elementwise(node, "Add", [0, 3], y: 6);
                    return;
                case "QLinearGlobalAveragePool" when node.Domain == "com.microsoft":
                    if (node.Attributes.GetInt("channels_last", 0) != 0)
                    {
                        throw Fail(node, "channels_last = 1 (NHWC) is not dequantised; ClrpMl explains NCHW pooling");
                    }

                    Elementwise(node, "GlobalAveragePool", [0], y: 3);
                    return;
                case "QLinearConcat" when node.Domain == "com.microsoft":
                    if (node.Inputs.Count < 5 || (node.Inputs.Count - 2) % 3 != 0)
                    {
                        throw Fail(node, $"it has {node.Inputs.Count} inputs; QLinearConcat takes the output scale and zero point, then (value, scale, zero point) per input");
                    }

                    Elementwise(node, "Concat", Enumerable.Range(0, (node.Inputs.Count - 2) / 3).Select(i => 2 + (3 * i)).ToArray(), y: 0, outputParamsFirst: true);
                    return;
            }

            if (node.Domain.Length == 0 && Commuting.Contains(node.OpType) && proto.Input.Count > 0 && proto.Output.Count > 0 && node.Outputs[0].Length > 0
                && _quantised.TryGetValue(node.Input(0), out QValue? q))
            {
                var moved = proto.Clone();
                moved.Input[0] = q.Float;
                string y = node.Outputs[0];
                moved.Output[0] = Fresh(y + "::float");
                for (int i = 1; i < moved.Output.Count; i++)
                {
                    moved.Output[i] = moved.Output[i].Length == 0 ? string.Empty : Fresh(moved.Output[i] + "::unused");
                }

                Emit(moved);
                _quantised[y] = q with { Float = moved.Output[0] };
                return;
            }

            foreach (string input in node.Inputs)
            {
                Materialise(input);
            }

            Emit(proto.Clone());
        }

        /// <summary>QuantizeLinear(a, s, zp): the float network keeps a, clipped to the representable range.</summary>
        private void Quantize(Node node)
        {
            (float s, long zp, DataType type) = ScalarParams(node, scale: 1, zeroPoint: 2, outputType: node.Attributes.GetInt("output_dtype", 0));
            string q = node.Outputs.Count > 0 ? node.Outputs[0] : string.Empty;
            if (q.Length == 0 || node.Input(0).Length == 0)
            {
                throw Fail(node, "it has no input or no output");
            }

            (float lo, float hi) = Range(node, s, zp, type);
            string a = node.Input(0);
            string floatName;
            if (_graph.Constants.TryGetValue(a, out ConstantTensor? c) && c.Floats is not null)
            {
                floatName = AddInitializer(Fresh(q + "::float"), c.Shape, Array.ConvertAll(c.Floats, v => Math.Clamp(v, lo, hi)));
            }
            else
            {
                floatName = EmitClip(a, q + "::float", lo, hi);
            }

            _quantised[q] = new QValue(floatName, s, zp, type, node.Input(1), node.Input(2));
        }

        private void Dequantize(Node node)
        {
            string x = node.Input(0), y = node.Outputs.Count > 0 ? node.Outputs[0] : string.Empty;
            if (x.Length == 0 || y.Length == 0)
            {
                throw Fail(node, "it has no input or no output");
            }

            if (node.Attributes.GetInt("block_size", 0) != 0)
            {
                throw Fail(node, "blocked quantisation (block_size ≠ 0) is not dequantised");
            }

            if (_quantised.TryGetValue(x, out QValue? q))
            {
                (float s, long zp, _) = ScalarParams(node, scale: 1, zeroPoint: 2, outputType: (long)q.Type);
                if (s != q.Scale || zp != q.ZeroPoint)
                {
                    throw Fail(node, $"it dequantises '{x}' with scale {F(s)} and zero point {zp}, but '{x}' was quantised with scale {F(q.Scale)} and zero point {q.ZeroPoint}; ClrpMl reads only matching pairs");
                }

                _pairs += _graph.Producer(x)?.OpType == "QuantizeLinear" ? 1 : 0;
                Emit(new NodeProto { Name = Fresh(node.Name), OpType = "Identity", Input = { q.Float }, Output = { y } });
                return;
            }

            if (!_graph.Constants.ContainsKey(x))
            {
                throw _typeOf.ContainsKey(x)
                    ? Fail(node, $"its input '{x}' is a tensor of {TypeName(_typeOf[x])}, which ClrpMl cannot dequantise (int8, uint8, int16, uint16 and int32 are read; 4-bit and float8 are not)")
                    : Fail(node, $"its input '{x}' must be a constant integer tensor (a weight) or the output of a QuantizeLinear or QLinear op, but it is computed otherwise ({(_graph.Producer(x) is Node p ? $"by '{p.Name}' ({p.OpType})" : "a graph input")}); quantised weights must be initializers");
            }

            float[] values = DequantizeConstant(node, x, scale: node.Input(1), zeroPoint: node.Input(2), axis: node.Attributes.GetInt("axis", 1));
            AddInitializer(y, _graph.Constants[x].Shape, values);
        }

        /// <summary>QLinearConv/QLinearMatMul/QGemm: the float op on the float activation with dequantised weights (and bias), then the output's Clip.</summary>
        private void Linear(Node node, string floatOp, int a, int w, int y, string bias, bool keepAttributes)
        {
            _qlinear++;
            // QLinearConv and QLinearMatMul require all eight scales and zero points; QGemm's zero points and output quantisation are optional.
            int[] required = node.OpType == "QGemm" ? [0, 1, 3, 4] : [0, 1, 2, 3, 4, 5, 6, 7];
            foreach (int i in required.Where(i => node.Input(i).Length == 0))
            {
                throw Fail(node, $"its {InputRole(node.OpType, i)} (input {i}) is missing; {node.OpType} requires it");
            }

            string input = FloatOf(node, node.Input(a), scale: node.Input(a + 1), zeroPoint: node.Input(a + 2));
            if (!_graph.Constants.ContainsKey(node.Input(w)))
            {
                throw Fail(node, $"its weight '{node.Input(w)}' must be a constant integer tensor (initializer), but it is computed from the input; a product of two activations is outside ClrpMl's CNN scope");
            }

            // Conv weights are per output channel (axis 0); MatMul's [K, N] and Gemm's B per column (axis 1, or 0 with transB).
            int wAxis = floatOp == "Conv" ? 0 : floatOp == "Gemm" && node.Attributes.GetInt("transB", 0) != 0 ? 0 : 1;
            ConstantTensor wq = _graph.Constants[node.Input(w)];
            float[] weights = DequantizeConstant(node, node.Input(w), node.Input(w + 1), node.Input(w + 2), wAxis);
            string wName = AddInitializer(Fresh(node.Name + "::weight"), wq.Shape, weights);
            var inputs = new List<string> { input, wName };
            if (bias.Length > 0)
            {
                inputs.Add(DequantizeBias(node, bias, node.Input(a + 1), node.Input(w + 1)));
            }

            var proto = new NodeProto { Name = Fresh(node.Name), OpType = floatOp, Input = { inputs } };
            if (keepAttributes)
            {
                proto.Attribute.AddRange(_protoOf[node.Name].Attribute.Select(x => x.Clone()));
            }

            FinishOutput(node, proto, y);
        }

        /// <summary>
        /// Dynamic quantisation as onnxruntime.quantization.quantize_dynamic writes it:
        /// <c>Mul(Cast(ConvInteger(DynamicQuantizeLinear(x), w, x_zp, w_zp)), Mul(x_scale, w_scale))</c> (or MatMulInteger) is
        /// <c>Conv(x, (w − w_zp)·w_scale)</c>: the int32 accumulator times both scales. The Cast and Mul are absorbed.
        /// </summary>
        private void IntegerOp(Node node)
        {
            _qlinear++;
            const string Pattern = "its int32 output must be Cast to float and multiplied by the product of the input's and the weight's scales, as onnxruntime.quantization.quantize_dynamic writes it";
            string a = node.Input(0), w = node.Input(1);
            if (_graph.Consumers(node.Outputs[0]) is not [Node cast] || cast.OpType != "Cast" || cast.Attributes.GetInt("to", 0) != (long)DataType.Float
                || _graph.Consumers(cast.Outputs[0]) is not [Node mul] || mul.OpType != "Mul")
            {
                throw Fail(node, Pattern);
            }

            string scaleProduct = mul.Input(0) == cast.Outputs[0] ? mul.Input(1) : mul.Input(0);
            string input;
            string wScale;
            if (_dynamic.TryGetValue(a, out (string Float, string Scale) dynamic))
            {
                // Mul(x_scale, w_scale) computed in the graph, w_scale a constant.
                if (_graph.Producer(scaleProduct) is not { OpType: "Mul" } product || !product.Inputs.Contains(dynamic.Scale))
                {
                    throw Fail(node, Pattern);
                }

                input = dynamic.Float;
                wScale = product.Input(0) == dynamic.Scale ? product.Input(1) : product.Input(0);
            }
            else if (_quantised.TryGetValue(a, out QValue? q) && _graph.Constants.TryGetValue(scaleProduct, out ConstantTensor? product))
            {
                // Static input scale: the product is a constant; the weight scale is what remains of it.
                input = q.Float;
                wScale = Fresh(w + "::scale");
                _constantScales[wScale] = new ConstantTensor(product.Shape, Array.ConvertAll(product.AsFloats(), v => v / q.Scale));
            }
            else
            {
                throw Fail(node, $"its input '{a}' must come from DynamicQuantizeLinear (or QuantizeLinear), but it is {(_graph.Producer(a) is Node p ? $"computed by '{p.Name}' ({p.OpType})" : "a graph input")}");
            }

            if (!_graph.Constants.ContainsKey(w))
            {
                throw Fail(node, $"its weight '{w}' must be a constant integer tensor (initializer), but it is computed from the input; a product of two activations is outside ClrpMl's CNN scope");
            }

            float[] weights = DequantizeConstant(node, w, wScale, node.Input(3), node.OpType == "ConvInteger" ? 0 : 1);
            string wName = AddInitializer(Fresh(node.Name + "::weight"), _graph.Constants[w].Shape, weights);
            var op = new NodeProto { Name = Fresh(node.Name), OpType = node.OpType == "ConvInteger" ? "Conv" : "MatMul", Input = { input, wName }, Output = { mul.Outputs[0] } };
            if (node.OpType == "ConvInteger")
            {
                op.Attribute.AddRange(_protoOf[node.Name].Attribute.Select(x => x.Clone()));
            }

            Emit(op);
            _absorbed.Add(cast.Name);
            _absorbed.Add(mul.Name);
        }

        /// <summary>QLinearAdd/QLinearGlobalAveragePool/QLinearConcat: the float op on the float inputs, then the output's Clip.</summary>
        private void Elementwise(Node node, string floatOp, int[] dataInputs, int y, bool outputParamsFirst = false)
        {
            _qlinear++;
            var inputs = dataInputs.Select(i => FloatOf(node, node.Input(i), node.Input(i + 1), node.Input(i + 2))).ToList();
            var proto = new NodeProto { Name = Fresh(node.Name), OpType = floatOp, Input = { inputs } };
            if (floatOp == "Concat")
            {
                proto.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = node.Attributes.GetInt("axis", 1) });
            }

            FinishOutput(node, proto, outputParamsFirst ? 0 : y);
        }

        /// <summary>Emits <paramref name="op"/> and the Clip of its output quantisation (inputs y, y+1); a QGemm without one outputs float directly.</summary>
        private void FinishOutput(Node node, NodeProto op, int y)
        {
            string output = node.Outputs[0];
            if (node.Input(y).Length == 0 && node.OpType == "QGemm")
            {
                op.Output.Add(output);
                Emit(op);
                return;
            }

            op.Output.Add(Fresh(output + "::linear"));
            Emit(op);
            (float s, long zp, DataType type) = ScalarParams(node, scale: y, zeroPoint: y + 1, outputType: 0, zeroPointRequired: node.OpType is "QLinearConv" or "QLinearMatMul");
            (float lo, float hi) = Range(node, s, zp, type);
            _quantised[output] = new QValue(EmitClip(op.Output[0], output + "::float", lo, hi), s, zp, type, node.Input(y), node.Input(y + 1));
        }

        /// <summary>The float value of integer input <paramref name="value"/> of <paramref name="node"/>: a quantised activation's, or a dequantised constant.</summary>
        private string FloatOf(Node node, string value, string scale, string zeroPoint)
        {
            if (_quantised.TryGetValue(value, out QValue? q))
            {
                return q.Float;
            }

            if (_graph.Constants.TryGetValue(value, out ConstantTensor? c))
            {
                return AddInitializer(Fresh(value + "::float"), c.Shape, DequantizeConstant(node, value, scale, zeroPoint, axis: 1));
            }

            throw Fail(node, $"its quantised input '{value}' is {(_graph.Producer(value) is Node p ? $"computed by '{p.Name}' ({p.OpType})" : "a graph input")}, not by a QuantizeLinear or QLinear op; ClrpMl explains float inputs quantised inside the graph");
        }

        /// <summary>An int32 bias with scale <c>s_x·s_w</c> (per output channel when the weight's scale is).</summary>
        private string DequantizeBias(Node node, string bias, string xScale, string wScale)
        {
            ConstantTensor b = RequireConstant(node, bias, "bias");
            float sx = ScalarFloat(node, xScale, "input scale");
            float[] sw = RequireConstant(node, wScale, "weight scale").AsFloats();
            if (sw.Length != 1 && sw.Length != b.Length)
            {
                throw Fail(node, $"its bias '{bias}' has {b.Length} values but the weight scale '{wScale}' {sw.Length}");
            }

            long[] q = b.AsLongs();
            var values = new float[q.Length];
            for (int i = 0; i < q.Length; i++)
            {
                values[i] = q[i] * (sx * sw[sw.Length == 1 ? 0 : i]);
            }

            _constants++;
            return AddInitializer(Fresh(bias + "::float"), b.Shape, values);
        }

        /// <summary><c>(float)(q − zp)·s</c> per tensor or along <paramref name="axis"/>, as ONNX Runtime's DequantizeLinear computes it.</summary>
        private float[] DequantizeConstant(Node node, string value, string scale, string zeroPoint, long axis)
        {
            DataType type = _typeOf.GetValueOrDefault(value, DataType.Undefined);
            if (type is not (DataType.Int8 or DataType.Uint8 or DataType.Int16 or DataType.Uint16 or DataType.Int32))
            {
                throw Fail(node, $"its quantised constant '{value}' is {TypeName(type)}; ClrpMl dequantises int8, uint8, int16, uint16 and int32 (4-bit and float8 are not read)");
            }

            ConstantTensor x = _graph.Constants[value];
            float[] s = RequireConstant(node, scale, "scale").AsFloats();
            long[] zp = zeroPoint.Length == 0 ? [0] : RequireConstant(node, zeroPoint, "zero point").AsLongs();
            int rank = x.Shape.Length;
            long ax = axis < 0 ? axis + rank : axis;
            int channels = s.Length;
            if (channels != 1 && (ax < 0 || ax >= rank || x.Shape[ax] != channels))
            {
                throw Fail(node, $"its scale '{scale}' has {channels} values, which matches no axis {axis} of '{value}' {Shape(x.Shape)} (per-tensor scales have one value, per-axis ones one per index of the axis)");
            }

            if (zp.Length != 1 && zp.Length != channels)
            {
                throw Fail(node, $"its zero point '{zeroPoint}' has {zp.Length} values but its scale '{scale}' {channels}");
            }

            int inner = channels == 1 ? 1 : x.Shape.Skip((int)ax + 1).Aggregate(1, (p, d) => p * d);
            long[] q = x.AsLongs();
            var values = new float[q.Length];
            for (int i = 0; i < q.Length; i++)
            {
                int c = channels == 1 ? 0 : i / inner % channels;
                values[i] = (float)(q[i] - zp[zp.Length == 1 ? 0 : c]) * s[c];
            }

            _constants++;
            return values;
        }

        /// <summary>A per-tensor scale and zero point (zero point optional unless <paramref name="zeroPointRequired"/>; default uint8 0).</summary>
        private (float Scale, long ZeroPoint, DataType Type) ScalarParams(Node node, int scale, int zeroPoint, long outputType, bool zeroPointRequired = false)
        {
            float s = ScalarFloat(node, node.Input(scale), "scale");
            string zpName = node.Input(zeroPoint);
            if (zpName.Length == 0)
            {
                if (zeroPointRequired)
                {
                    throw Fail(node, $"its zero point (input {zeroPoint}) is missing; {node.OpType} requires one");
                }

                return (s, 0, outputType == 0 ? DataType.Uint8 : (DataType)outputType);
            }

            ConstantTensor zp = RequireConstant(node, zpName, "zero point");
            if (zp.Length != 1)
            {
                throw Fail(node, $"its zero point '{zpName}' has {zp.Length} values; activations are dequantised per tensor only (per-axis activation quantisation is not read)");
            }

            return (s, zp.AsLongs()[0], _typeOf.GetValueOrDefault(zpName, DataType.Uint8));
        }

        private float ScalarFloat(Node node, string name, string role)
        {
            if (name.Length == 0)
            {
                throw Fail(node, $"its {role} is missing");
            }

            ConstantTensor c = RequireConstant(node, name, role);
            if (c.Length != 1)
            {
                throw Fail(node, $"its {role} '{name}' has {c.Length} values; activations are quantised per tensor only (per-axis activation quantisation is not read)");
            }

            float s = c.AsFloats()[0];
            if (!(s > 0) || !float.IsFinite(s))
            {
                throw Fail(node, $"its {role} '{name}' is {F(s)}; a scale must be positive and finite");
            }

            return s;
        }

        /// <summary>Scales this rewrite derived (a static input's weight scale), by name.</summary>
        private readonly Dictionary<string, ConstantTensor> _constantScales = new(StringComparer.Ordinal);

        private ConstantTensor RequireConstant(Node node, string name, string role) =>
            name.Length > 0 && (_graph.Constants.TryGetValue(name, out ConstantTensor? c) || _constantScales.TryGetValue(name, out c)) ? c
            : throw Fail(node, name.Length == 0 ? $"its {role} is missing" : $"its {role} '{name}' must be a constant (initializer or Constant node), but it is computed at run time");

        private (float Lo, float Hi) Range(Node node, float s, long zp, DataType type)
        {
            (long min, long max) = type switch
            {
                DataType.Uint8 => (0L, 255L),
                DataType.Int8 => (-128L, 127L),
                DataType.Uint16 => (0L, 65535L),
                DataType.Int16 => (-32768L, 32767L),
                _ => throw Fail(node, $"it quantises to {TypeName(type)}; ClrpMl reads int8, uint8, int16 and uint16 activations"),
            };
            return ((min - zp) * s, (max - zp) * s);
        }

        /// <summary>Re-creates an integer tensor for a consumer the rewrite leaves as is (or a graph output): QuantizeLinear of its float value.</summary>
        private void Materialise(string value)
        {
            if (_quantised.TryGetValue(value, out QValue? q) && _materialised.Add(value))
            {
                var p = new NodeProto { Name = Fresh(value + "::quantize"), OpType = "QuantizeLinear", Input = { q.Float, q.ScaleName }, Output = { value } };
                if (q.ZeroPointName.Length > 0)
                {
                    p.Input.Add(q.ZeroPointName);
                }

                Emit(p);
            }
        }

        private string EmitClip(string input, string output, float lo, float hi)
        {
            output = Fresh(output);
            var clip = new NodeProto { Name = output + "::clip", OpType = "Clip", Input = { input }, Output = { output } };
            if (_opset >= 11)
            {
                clip.Input.Add(AddInitializer(Fresh(output + "::min"), [], [lo]));
                clip.Input.Add(AddInitializer(Fresh(output + "::max"), [], [hi]));
            }
            else
            {
                clip.Attribute.Add(new AttributeProto { Name = "min", Type = AttributeProto.Types.AttributeType.Float, F = lo });
                clip.Attribute.Add(new AttributeProto { Name = "max", Type = AttributeProto.Types.AttributeType.Float, F = hi });
            }

            Emit(clip);
            return output;
        }

        private string AddInitializer(string name, int[] shape, float[] values)
        {
            var t = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
            t.Dims.AddRange(shape.Select(d => (long)d));
            _initializers.Add(t);
            _used.Add(name);
            return name;
        }

        private readonly HashSet<string> _used = new(StringComparer.Ordinal);

        /// <summary>A value or node name the model does not use yet.</summary>
        private string Fresh(string name)
        {
            string candidate = name;
            for (int k = 1; _graph.Producer(candidate) is not null || _graph.Constants.ContainsKey(candidate) || _used.Contains(candidate); k++)
            {
                candidate = $"{name}_{k}";
            }

            _used.Add(candidate);
            return candidate;
        }

        private void Emit(NodeProto p)
        {
            foreach (string o in p.Output)
            {
                _used.Add(o);
            }

            _nodes.Add(p);
        }

        /// <summary>The float model: kept and new nodes (dead ones dropped), the initializers still read, no stale value_info.</summary>
        private ModelProto BuildModel()
        {
            GraphProto source = _model.Graph;
            var needed = new HashSet<string>(source.Output.Select(o => o.Name), StringComparer.Ordinal);
            var live = new List<NodeProto>();
            for (int i = _nodes.Count - 1; i >= 0; i--)
            {
                NodeProto p = _nodes[i];
                if (p.Output.Any(needed.Contains))
                {
                    live.Add(p);
                    needed.UnionWith(p.Input.Where(x => x.Length > 0));
                }
            }

            live.Reverse();
            var graph = new GraphProto { Name = source.Name, DocString = source.DocString };
            graph.Node.AddRange(live);
            graph.Initializer.AddRange(source.Initializer.Where(t => needed.Contains(t.Name)));
            graph.Initializer.AddRange(_initializers.Where(t => needed.Contains(t.Name)));
            var initializerNames = new HashSet<string>(source.Initializer.Select(t => t.Name), StringComparer.Ordinal);
            graph.Input.AddRange(source.Input.Where(i => !initializerNames.Contains(i.Name) || needed.Contains(i.Name)));
            graph.Output.AddRange(source.Output);
            var model = new ModelProto
            {
                IrVersion = _model.IrVersion, ProducerName = _model.ProducerName, ProducerVersion = _model.ProducerVersion, Domain = _model.Domain,
                ModelVersion = _model.ModelVersion, DocString = _model.DocString, Graph = graph,
            };
            model.OpsetImport.AddRange(_model.OpsetImport);
            model.MetadataProps.AddRange(_model.MetadataProps);
            return model;
        }

        private static string InputRole(string op, int i) => (op, i) switch
        {
            (_, 0) => "input",
            (_, 1) => "input scale",
            (_, 2) => "input zero point",
            (_, 3) => "weight",
            (_, 4) => "weight scale",
            (_, 5) => "weight zero point",
            ("QGemm", 6) => "bias",
            ("QGemm", 7) => "output scale",
            (_, 6) => "output scale",
            _ => "output zero point",
        };

        private static string TypeName(DataType t) =>
            t == DataType.Undefined ? "of an unknown type" : Enum.IsDefined(t) ? t.ToString().ToLowerInvariant() : $"element type {(int)t}";

        private static string Shape(int[] shape) => "[" + string.Join(',', shape) + "]";

        private static string F(float v) => v.ToString("G6", CultureInfo.InvariantCulture);

        private static UnsupportedOperatorException Fail(Node node, string reason) =>
            new(node.Name, node.OpType, node.Domain, node.Opset, "quantised model: " + reason);
    }
}
