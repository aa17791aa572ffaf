using System.Runtime.InteropServices;
using Clrp.Onnx.Proto;

namespace Clrp.Onnx.Graph;

/// <summary>Decodes ONNX TensorProto payloads (typed fields or raw_data, little-endian) into <see cref="ConstantTensor"/>.</summary>
internal static class TensorProtoDecoder
{
    /// <summary>Decodes <paramref name="tensor"/>, or returns null for element types no operator of ours reads (strings, complex).</summary>
    public static ConstantTensor? Decode(TensorProto tensor, string source)
    {
        string name = tensor.Name;
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw new InvalidGraphException($"{source}: tensor '{name}' keeps its data in an external file, which ClrpMl does not read; save the model with its weights inside (onnx.save(..., save_as_external_data=False)).");
        }

        int[] shape = new int[tensor.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            long d = tensor.Dims[i];
            if (d < 0 || d > int.MaxValue)
            {
                throw new InvalidGraphException($"{source}: tensor '{name}' has dimension {d}, outside [0, 2^31).");
            }

            shape[i] = (int)d;
        }

        long count = 1;
        foreach (int d in shape)
        {
            count *= d;
        }

        ReadOnlySpan<byte> raw = tensor.HasRawData ? tensor.RawData.Span : default;
        var type = (TensorProto.Types.DataType)tensor.DataType;
        try
        {
            return type switch
            {
                TensorProto.Types.DataType.Float => new ConstantTensor(shape, raw.Length > 0 ? Raw<float>(raw, count, name, source) : Check(tensor.FloatData.ToArray(), count, name, source)),
                TensorProto.Types.DataType.Double => new ConstantTensor(shape, Array.ConvertAll(raw.Length > 0 ? Raw<double>(raw, count, name, source) : Check(tensor.DoubleData.ToArray(), count, name, source), v => (float)v)),
                TensorProto.Types.DataType.Float16 => new ConstantTensor(shape, raw.Length > 0
                    ? Array.ConvertAll(Raw<Half>(raw, count, name, source), v => (float)v)
                    : Array.ConvertAll(Check(tensor.Int32Data.ToArray(), count, name, source), v => (float)BitConverter.UInt16BitsToHalf((ushort)v))),
                TensorProto.Types.DataType.Int64 => new ConstantTensor(shape, raw.Length > 0 ? Raw<long>(raw, count, name, source) : Check(tensor.Int64Data.ToArray(), count, name, source)),
                TensorProto.Types.DataType.Int32 => new ConstantTensor(shape, Widen(raw.Length > 0 ? Raw<int>(raw, count, name, source) : Check(tensor.Int32Data.ToArray(), count, name, source))),
                TensorProto.Types.DataType.Int8 => new ConstantTensor(shape, raw.Length > 0 ? Array.ConvertAll(Raw<sbyte>(raw, count, name, source), v => (long)v) : Widen(Check(tensor.Int32Data.ToArray(), count, name, source))),
                TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Bool => new ConstantTensor(shape, raw.Length > 0 ? Array.ConvertAll(Raw<byte>(raw, count, name, source), v => (long)v) : Widen(Check(tensor.Int32Data.ToArray(), count, name, source))),
                TensorProto.Types.DataType.Int16 => new ConstantTensor(shape, raw.Length > 0 ? Array.ConvertAll(Raw<short>(raw, count, name, source), v => (long)v) : Widen(Check(tensor.Int32Data.ToArray(), count, name, source))),
                _ => null,
            };
        }
        catch (ArgumentException e)
        {
            throw new InvalidGraphException($"{source}: tensor '{name}' is malformed: {e.Message}");
        }
    }

    private static T[] Raw<T>(ReadOnlySpan<byte> raw, long count, string name, string source)
        where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        if (raw.Length != count * size)
        {
            throw new InvalidGraphException($"{source}: tensor '{name}' holds {raw.Length} bytes of raw data; its shape needs {count * size}.");
        }

        // ONNX raw_data is little-endian; so is every platform .NET runs ClrpMl on.
        return MemoryMarshal.Cast<byte, T>(raw).ToArray();
    }

    private static T[] Check<T>(T[] values, long count, string name, string source)
    {
        if (values.Length != count)
        {
            throw new InvalidGraphException($"{source}: tensor '{name}' holds {values.Length} values; its shape needs {count}.");
        }

        return values;
    }

    private static long[] Widen(int[] values) => Array.ConvertAll(values, v => (long)v);
}
