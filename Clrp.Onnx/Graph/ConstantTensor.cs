namespace Clrp.Onnx.Graph;

/// <summary>
/// A value known without running the model: an initializer, a Constant node's tensor, or a folded
/// shape computation. Holds float data for weights and int64 data for shapes, axes and pads.
/// </summary>
public sealed class ConstantTensor
{
    public ConstantTensor(int[] shape, float[] floats)
    {
        Shape = shape;
        Floats = floats;
    }

    public ConstantTensor(int[] shape, long[] longs)
    {
        Shape = shape;
        Longs = longs;
    }

    /// <summary>Dimensions; empty for a scalar.</summary>
    public int[] Shape { get; }

    /// <summary>The elements when the tensor is floating point (float, double, float16 converted), else null.</summary>
    public float[]? Floats { get; }

    /// <summary>The elements when the tensor is integral (int64, int32, …, bool converted), else null.</summary>
    public long[]? Longs { get; }

    /// <summary>Number of elements.</summary>
    public int Length => Floats?.Length ?? Longs!.Length;

    /// <summary>The elements as floats, converting integers.</summary>
    public float[] AsFloats() => Floats ?? Array.ConvertAll(Longs!, v => (float)v);

    /// <summary>The elements as int64, truncating floats.</summary>
    public long[] AsLongs() => Longs ?? Array.ConvertAll(Floats!, v => (long)v);
}
