namespace Clrp.Onnx.Algebra;

/// <summary>
/// Which batch a value of the relevance algebra carries. Forward quantities (activations, rule denominators, modified
/// inputs) exist once per <see cref="Image"/>; relevance exists once per seed row (<see cref="Rows"/>: images × seeds,
/// image-major); constants (box bounds given as options, weights-derived tables) are <see cref="Shared"/> by every image
/// and row. Mixing kinds broadcasts: a row meets the image it belongs to, a shared value meets everything.
/// </summary>
internal enum ValueKind
{
    /// <summary>One value for every image and row (batch axis 1).</summary>
    Shared = 0,

    /// <summary>One value per image (batch axis N).</summary>
    Image = 1,

    /// <summary>One value per relevance row (batch axis N·S).</summary>
    Rows = 2,
}

/// <summary>
/// A tensor of the relevance algebra as one interpreter holds it: computed (<see cref="EagerAlgebra"/>) or a name in an
/// ONNX graph being emitted (<see cref="EmittingAlgebra"/>). Its <see cref="RowShape"/> is the shape of one batch entry;
/// the batch axis is implied by <see cref="Kind"/>.
/// </summary>
internal abstract class RelValue
{
    protected RelValue(ValueKind kind, int[] rowShape)
    {
        Kind = kind;
        RowShape = rowShape;
    }

    /// <summary>Shared, per image, or per row.</summary>
    public ValueKind Kind { get; }

    /// <summary>The shape of one batch entry.</summary>
    public int[] RowShape { get; }

    /// <summary>Elements per batch entry.</summary>
    public int RowLength => RowShape.Aggregate(1, (a, b) => a * b);

    /// <summary>The row shape as <c>[a,b,c]</c>, for messages.</summary>
    public string ShapeText => Tensors.Tensor.FormatShape(RowShape);

    /// <summary>The kind of a result combining <paramref name="a"/> and <paramref name="b"/>: rows beat images beat shared.</summary>
    public static ValueKind Combine(ValueKind a, ValueKind b) => (ValueKind)Math.Max((int)a, (int)b);
}
