namespace Clrp.Onnx.Kernels;

/// <summary>
/// A weight matrix of a linear layer as the kernels read it: <see cref="Rows"/> output units
/// (output channels), split into <see cref="Groups"/> equal blocks of rows, each row holding
/// <see cref="Columns"/> inputs (for Conv: C/group · kH · kW). The per-group transpose that the
/// input gradient needs is computed once, on first use, and kept.
/// </summary>
internal sealed class LinearWeights
{
    private readonly Lazy<float[]> _transposed;

    public LinearWeights(float[] values, int rows, int groups = 1)
    {
        if (rows <= 0 || groups <= 0 || rows % groups != 0 || values.Length % rows != 0)
        {
            throw new ArgumentException($"{values.Length} weights do not form {rows} rows in {groups} groups.");
        }

        Values = values;
        Rows = rows;
        Groups = groups;
        Columns = values.Length / rows;
        _transposed = new Lazy<float[]>(Transpose, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Row-major [Rows, Columns].</summary>
    public float[] Values { get; }

    public int Rows { get; }

    public int Columns { get; }

    public int Groups { get; }

    /// <summary>Rows per group.</summary>
    public int RowsPerGroup => Rows / Groups;

    /// <summary>Per group g, the transpose of its [RowsPerGroup, Columns] block, stored as [Columns, RowsPerGroup] at offset g·Columns·RowsPerGroup.</summary>
    public float[] Transposed => _transposed.Value;

    /// <summary>A new weight set with <paramref name="map"/> applied to every weight (w⁺, w², …).</summary>
    public LinearWeights Map(Func<float, float> map) => new(Array.ConvertAll(Values, v => map(v)), Rows, Groups);

    private float[] Transpose()
    {
        var t = new float[Values.Length];
        int block = RowsPerGroup * Columns;
        for (int g = 0; g < Groups; g++)
        {
            Sgemm.Transpose(Values.AsSpan(g * block, block), t.AsSpan(g * block, block), RowsPerGroup, Columns);
        }

        return t;
    }
}
