namespace Clrp.Onnx.Kernels;

/// <summary>Writes f(source[i]) to destination[i] for every element (a weight transform such as w⁺ = max(0, w)).</summary>
internal delegate void ElementwiseMap(ReadOnlySpan<float> source, Span<float> destination);

/// <summary>
/// An element-wise map of weights (w⁺, w², −w, …) in its two forms: computed over spans, and emitted as ONNX nodes over a
/// weight tensor. Rules define the maps (<c>WeightTransform</c>); kernels and the emitting interpreter only apply them.
/// </summary>
internal interface IWeightMap
{
    /// <summary>Identifies the map (cache key, e.g. "w+").</summary>
    string Key { get; }

    /// <summary>destination[i] = f(source[i]).</summary>
    void ApplyTo(ReadOnlySpan<float> source, Span<float> destination);

    /// <summary>Emits <c>f(w)</c> over the tensor named <paramref name="weights"/>; returns the result's name.</summary>
    string Emit(Emitting.OnnxEmitter emitter, string weights);
}

/// <summary>
/// A weight matrix of a linear layer as the kernels read it: <see cref="Rows"/> output units
/// (output channels), split into <see cref="Groups"/> equal blocks of rows, each row holding
/// <see cref="Columns"/> inputs (for Conv: C/group · kH · kW). The per-group transpose that the
/// input gradient needs is computed once, on first use, and kept.
/// <para>
/// Transformed weights (w⁺, w², …) are <see cref="Derived"/> from the layer's weights: their values are only
/// computed, once, when a kernel asks for <see cref="Values"/>. Kernels that can apply <see cref="Map"/> on the fly
/// (<see cref="DenseKernel"/>) read <see cref="Source"/> instead and never hold a second copy — for VGG16's
/// 25088×4096 layer that copy would be 411 MB.
/// </para>
/// </summary>
internal sealed class LinearWeights
{
    private readonly Lazy<float[]> _values;
    private readonly Lazy<float[]> _transposed;

    /// <param name="values">Row-major [rows, columns].</param>
    /// <param name="rows">Output units.</param>
    /// <param name="groups">Groups.</param>
    /// <param name="origin">The model constant that holds these values in the kernel's ONNX layout, when there is one.</param>
    public LinearWeights(float[] values, int rows, int groups = 1, WeightOrigin? origin = null)
        : this(values.Length, rows, groups, new Lazy<float[]>(values))
    {
        Origin = origin;
    }

    private LinearWeights(LinearWeights source, IWeightMap transform)
        : this(source.Rows * source.Columns, source.Rows, source.Groups, null)
    {
        Source = source;
        Transform = transform;
        Map = transform.ApplyTo;
    }

    /// <param name="length">Rows · Columns.</param>
    /// <param name="rows">Output units.</param>
    /// <param name="groups">Groups.</param>
    /// <param name="values">The values, or null for derived weights (computed from Source on first use).</param>
    private LinearWeights(int length, int rows, int groups, Lazy<float[]>? values)
    {
        if (rows <= 0 || groups <= 0 || rows % groups != 0 || length % rows != 0)
        {
            throw new ArgumentException($"{length} weights do not form {rows} rows in {groups} groups.");
        }

        Rows = rows;
        Groups = groups;
        Columns = length / rows;
        _values = values ?? new Lazy<float[]>(Materialize, LazyThreadSafetyMode.ExecutionAndPublication);
        _transposed = new Lazy<float[]>(Transpose, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Row-major [Rows, Columns]; computed on first use for derived weights.</summary>
    public float[] Values => _values.Value;

    /// <summary>For derived weights, the weights they are computed from; else null.</summary>
    public LinearWeights? Source { get; }

    /// <summary>For derived weights, the elementwise map applied to <see cref="Source"/>; else null.</summary>
    public ElementwiseMap? Map { get; }

    /// <summary>For derived weights, the transform applied to <see cref="Source"/> (emitted as ONNX nodes by the compiler); else null.</summary>
    public IWeightMap? Transform { get; }

    /// <summary>Where these weights live in the model (null for derived or rearranged weights).</summary>
    public WeightOrigin? Origin { get; }

    public int Rows { get; }

    public int Columns { get; }

    public int Groups { get; }

    /// <summary>Rows per group.</summary>
    public int RowsPerGroup => Rows / Groups;

    /// <summary>Per group g, the transpose of its [RowsPerGroup, Columns] block, stored as [Columns, RowsPerGroup] at offset g·Columns·RowsPerGroup.</summary>
    public float[] Transposed => _transposed.Value;

    /// <summary>Weights <c>transform(w)</c> of the same shape, computed from these when first needed.</summary>
    public static LinearWeights Derived(LinearWeights source, IWeightMap transform) => new(source, transform);

    /// <summary>Row <paramref name="row"/> of these weights, mapped on the fly into <paramref name="destination"/> when derived and not materialised.</summary>
    public ReadOnlySpan<float> RowOf(int row, Span<float> destination) => Slice(row, 0, Columns, destination);

    /// <summary>Columns [<paramref name="start"/>, start + length) of row <paramref name="row"/>, mapped on the fly like <see cref="RowOf"/>.</summary>
    public ReadOnlySpan<float> Slice(int row, int start, int length, Span<float> destination)
    {
        if (Source is null || _values.IsValueCreated)
        {
            return Values.AsSpan((row * Columns) + start, length);
        }

        Span<float> mapped = destination[..length];
        Map!(Source.Slice(row, start, length, mapped), mapped);
        return mapped;
    }

    private float[] Materialize()
    {
        float[] source = Source!.Values;
        var values = new float[source.Length];
        const int Chunk = 1 << 16;
        Parallel.For(0, (source.Length + Chunk - 1) / Chunk, c =>
        {
            int start = c * Chunk, length = Math.Min(Chunk, source.Length - start);
            Map!(source.AsSpan(start, length), values.AsSpan(start, length));
        });
        return values;
    }

    private float[] Transpose()
    {
        float[] values = Values;
        var t = new float[values.Length];
        int block = RowsPerGroup * Columns;
        for (int g = 0; g < Groups; g++)
        {
            Sgemm.Transpose(values.AsSpan(g * block, block), t.AsSpan(g * block, block), RowsPerGroup, Columns);
        }

        return t;
    }
}

/// <summary>
/// The model constant a layer's weights were read from, for graphs that extend the model: <paramref name="Constant"/> holds
/// them in the kernel's ONNX layout, or (dense layers, <paramref name="Transposed"/>) as the transposed [in, out] matrix.
/// </summary>
internal sealed record WeightOrigin(string Constant, bool Transposed);
