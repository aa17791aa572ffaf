using System.Globalization;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using DataType = Clrp.Onnx.Proto.TensorProto.Types.DataType;

namespace Clrp.Onnx.Canonizers;

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
internal static partial class DequantizeModel
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

    private sealed partial class Rewriter
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

            if (node.OpType is "QuantizeLinear" or "DequantizeLinear"
                && node.Attributes.Names.FirstOrDefault(a => a is not ("axis" or "block_size" or "output_dtype" or "saturate")) is string unknown)
            {
                throw Fail(node, $"its attribute '{unknown}' is not read (QuantizeLinear/DequantizeLinear are dequantised as defined up to opset 21: axis, block_size 0, output_dtype)");
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
