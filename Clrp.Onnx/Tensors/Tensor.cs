namespace Clrp.Onnx.Tensors;

/// <summary>
/// A dense float32 tensor in C (row-major) order: <see cref="Data"/> holds
/// <c>Π Shape</c> elements. The engine's only numeric container; it owns its buffer.
/// </summary>
public sealed class Tensor
{
    /// <summary>Creates a zero-filled tensor of the given shape.</summary>
    public Tensor(params int[] shape)
        : this(new float[CheckedCount(shape)], shape)
    {
    }

    /// <summary>Wraps <paramref name="data"/> (not copied) as a tensor of <paramref name="shape"/>.</summary>
    public Tensor(float[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long count = CheckedCount(shape);
        if (count != data.Length)
        {
            throw new ArgumentException($"Shape [{string.Join(',', shape)}] needs {count} elements, the buffer holds {data.Length}.", nameof(data));
        }

        Data = data;
        Shape = (int[])shape.Clone();
    }

    /// <summary>The elements in C order.</summary>
    public float[] Data { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>Number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Elements per entry of the first axis (the batch axis by convention).</summary>
    public int RowLength => Rank == 0 ? 1 : (Shape[0] == 0 ? 0 : Length / Shape[0]);

    /// <summary>A span over the <paramref name="row"/>-th entry of the first axis.</summary>
    public Span<float> Row(int row) => Data.AsSpan(row * RowLength, RowLength);

    /// <summary>A new tensor sharing nothing with this one.</summary>
    public Tensor Clone() => new((float[])Data.Clone(), Shape);

    /// <summary>The same buffer seen with another shape of the same element count.</summary>
    public Tensor Reshape(params int[] shape) => new(Data, shape);

    /// <summary>The shape as <c>[a,b,c]</c>, for messages.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Formats a shape as <c>[a,b,c]</c>.</summary>
    public static string FormatShape(IEnumerable<int> shape) => "[" + string.Join(',', shape) + "]";

    /// <summary>Formats a shape as <c>[a,b,c]</c>.</summary>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(',', shape) + "]";

    /// <summary>Product of the dimensions, refusing negative dimensions and overflow past int.MaxValue elements.</summary>
    public static int CheckedCount(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Negative dimension in shape {FormatShape(shape)}.", nameof(shape));
            }

            count *= d;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"Shape {FormatShape(shape)} has more elements than one array can hold.", nameof(shape));
            }
        }

        return (int)count;
    }

    /// <summary>True when every element is finite (no NaN, no ±Inf).</summary>
    public bool AllFinite()
    {
        foreach (float v in Data)
        {
            if (!float.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }
}
