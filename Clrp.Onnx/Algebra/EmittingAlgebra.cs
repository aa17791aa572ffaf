using Clrp.Onnx.Emitting;
using Clrp.Onnx.Kernels;

namespace Clrp.Onnx.Algebra;

/// <summary>A value of the <see cref="EmittingAlgebra"/>: the name of a tensor [batch, …RowShape] in the graph being built.</summary>
internal sealed class SymbolValue(ValueKind kind, string name, int[] rowShape) : RelValue(kind, rowShape)
{
    public string Name { get; } = name;
}

/// <summary>Where an <see cref="EmittingAlgebra"/> finds what the graph around it provides.</summary>
internal sealed class EmittingContext
{
    /// <summary>The per-image shape of every forward value the propagators read (from a shape probe).</summary>
    public required Func<string, int[]> ShapeOf { get; init; }

    /// <summary>True when a constant of the model may be referenced by name (it exists, unchanged, in the emitted model).</summary>
    public required Func<string, bool> IsModelConstant { get; init; }

    /// <summary>Relevance rows per image, S: row r belongs to image ⌊r/S⌋.</summary>
    public int RowsPerImage { get; init; } = 1;

    /// <summary>A [rows, 1] tensor of ones (for zero rows), or null where no rows exist (denominators only).</summary>
    public string? RowOnes { get; init; }

    /// <summary>CLRP2: an int64 [rows] tensor with the negated unit of each dual row and −1 elsewhere; else null.</summary>
    public string? NegatedUnits { get; init; }
}

/// <summary>
/// The emitting interpreter of the relevance algebra: every operation appends ONNX nodes (through an
/// <see cref="OnnxEmitter"/>) that compute what <see cref="EagerAlgebra"/> computes. Relevance rows are laid out image-major,
/// S per image, so a row meets its image by viewing rows as [N, S, …] against images as [N, 1, …]. Weights are referenced
/// by name where the model holds them, and their transforms (w⁺, −w, …) are emitted as nodes over them (ONNX Runtime folds
/// them once at load), so the explainer graph adds little to the model's size.
/// </summary>
internal sealed partial class EmittingAlgebra : IRelevanceAlgebra
{
    private readonly OnnxEmitter _e;
    private readonly EmittingContext _context;
    private readonly Dictionary<string, float[]> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<LinearWeights, EmittedWeights> _weights = new(ReferenceEqualityComparer.Instance);

    public EmittingAlgebra(OnnxEmitter emitter, EmittingContext context)
    {
        _e = emitter;
        _context = context;
    }

    /// <summary>The emitter nodes go to.</summary>
    public OnnxEmitter Emitter => _e;

    /// <summary>The name behind <paramref name="value"/>.</summary>
    public static string NameOf(RelValue value) => ((SymbolValue)value).Name;

    /// <summary>Wraps an emitted value <paramref name="name"/> ([rows, …rowShape]) as relevance rows.</summary>
    public static RelValue RowsOf(string name, int[] rowShape) => new SymbolValue(ValueKind.Rows, name, rowShape);

    public RelValue Activation(string name) => new SymbolValue(ValueKind.Image, name, _context.ShapeOf(name));

    public RelValue Constant(float[] values, int[] rowShape)
    {
        string name = _e.Floats(values, [1, .. rowShape]);
        _constants[name] = values;
        return new SymbolValue(ValueKind.Shared, name, rowShape);
    }

    public bool IsKnownZero(RelValue x) =>
        x.Kind == ValueKind.Shared && _constants.TryGetValue(NameOf(x), out float[]? values) && !values.AsSpan().ContainsAnyExcept(0f);

    public RelValue Zeros(int[] rowShape)
    {
        string ones = _context.RowOnes ?? throw new InvalidOperationException("zero relevance rows asked for in a graph without rows.");
        string perRow = _e.Reshape(ones, [-1, .. Enumerable.Repeat(1L, rowShape.Length)]);
        return new SymbolValue(ValueKind.Rows, _e.Node("Mul", [perRow, _e.Filled(0f, [1, .. rowShape], "zeros")]), rowShape);
    }

    public RelValue Reshape(RelValue x, int[] rowShape)
    {
        if (x.RowShape.SequenceEqual(rowShape))
        {
            return x;
        }

        return new SymbolValue(x.Kind, _e.Reshape(NameOf(x), [Batch(x), .. rowShape.Select(d => (long)d)]), rowShape);
    }

    public RelValue Forward(ILinearKernel kernel, RelValue x, LinearWeights? weights) =>
        new SymbolValue(x.Kind, kernel.EmitForward(_e, NameOf(x), Resolve(weights, kernel)), kernel.OutputShape);

    public RelValue Adjoint(ILinearKernel kernel, RelValue g, LinearWeights? weights) =>
        new SymbolValue(g.Kind, kernel.EmitAdjoint(_e, NameOf(g), Resolve(weights, kernel)), kernel.InputShape);

    public RelValue AddBias(ILinearKernel kernel, RelValue z, float[] bias) =>
        new SymbolValue(z.Kind, kernel.EmitAddBias(_e, NameOf(z), bias), z.RowShape);

    public RelValue NegationMask(int[] rowShape)
    {
        string units = _context.NegatedUnits ?? throw new InvalidOperationException("a negation mask asked for outside CLRP2.");
        int count = rowShape.Length == 0 ? 1 : rowShape[0];
        string column = _e.Reshape(units, -1, 1);
        string range = _e.Longs(Enumerable.Range(0, count).Select(i => (long)i).ToArray(), [1, count], "units");
        string mask = _e.Cast(_e.Node("Equal", [column, range]), OnnxEmitter.FloatType);
        int[] maskRow = [count, .. Enumerable.Repeat(1, Math.Max(0, rowShape.Length - 1))];
        return new SymbolValue(ValueKind.Rows, _e.Reshape(mask, [-1, .. maskRow.Select(d => (long)d)]), maskRow);
    }

    /// <summary>The batch dimension to write in a Reshape: 1 for shared values, −1 (inferred) otherwise.</summary>
    private static long Batch(RelValue x) => x.Kind == ValueKind.Shared ? 1 : -1;

    /// <summary>
    /// The weights' name in the graph: the model's own constant where it holds them, else an initializer in the kernel's
    /// layout; derived weights are their transform emitted over the source's name. Cached per weight set.
    /// </summary>
    private EmittedWeights? Resolve(LinearWeights? weights, ILinearKernel kernel)
    {
        if (weights is null)
        {
            return null;
        }

        if (_weights.TryGetValue(weights, out EmittedWeights? known))
        {
            return known;
        }

        EmittedWeights resolved;
        if (weights.Source is { } source && weights.Transform is { } transform)
        {
            EmittedWeights inner = Resolve(source, kernel)!;
            resolved = new EmittedWeights(transform.Emit(_e, inner.Name), inner.Transposed);
        }
        else if (weights.Origin is { } origin && _context.IsModelConstant(origin.Constant))
        {
            resolved = new EmittedWeights(origin.Constant, origin.Transposed);
        }
        else
        {
            (float[] values, int[] shape) = kernel.OnnxWeights(weights);
            resolved = new EmittedWeights(_e.Floats(values, shape, "weights"), false);
        }

        _weights[weights] = resolved;
        return resolved;
    }
}
