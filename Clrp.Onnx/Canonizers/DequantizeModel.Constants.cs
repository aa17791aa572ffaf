using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using DataType = Clrp.Onnx.Proto.TensorProto.Types.DataType;

namespace Clrp.Onnx.Canonizers;

/// <summary>How <see cref="DequantizeModel"/> reads quantisation parameters and dequantises constant tensors.</summary>
internal static partial class DequantizeModel
{
    private sealed partial class Rewriter
    {
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
    }
}
