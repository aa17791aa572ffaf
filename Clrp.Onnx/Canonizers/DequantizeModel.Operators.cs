using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using DataType = Clrp.Onnx.Proto.TensorProto.Types.DataType;

namespace Clrp.Onnx.Canonizers;

/// <summary>The operator-format rewrites of <see cref="DequantizeModel"/>: QLinear ops and dynamic quantisation to float ops.</summary>
internal static partial class DequantizeModel
{
    private sealed partial class Rewriter
    {
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
    }
}
