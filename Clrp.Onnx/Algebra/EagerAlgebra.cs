using System.Diagnostics;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Clrp.Onnx.Algebra;

/// <summary>A value of the <see cref="EagerAlgebra"/>: a tensor [batch, …RowShape] (batch 1, N or rows by <see cref="RelValue.Kind"/>).</summary>
internal sealed class TensorValue(ValueKind kind, Tensor tensor) : RelValue(kind, tensor.Shape[1..])
{
    public Tensor Tensor { get; } = tensor;
}

/// <summary>
/// The computing interpreter of the relevance algebra (the managed engine). Relevance rows may belong to any image
/// (<c>rowImage[r]</c>), so the walk can run seeds in chunks. Every tensor it creates comes from the explainer's
/// <see cref="BufferPool"/> and is handed back by <see cref="Recycle"/> as soon as no pending value holds it.
/// Not thread-safe: one instance per walk.
/// </summary>
internal sealed partial class EagerAlgebra : IRelevanceAlgebra
{
    private readonly IReadOnlyDictionary<string, Tensor> _activations;
    private readonly int[] _rowImage;
    private readonly int _images;
    private readonly int[]? _negatedUnit;
    private readonly BufferPool? _pool;
    private readonly Action<string, long>? _timer;
    private readonly List<Tensor> _created = [];

    /// <param name="activations">The captured forward values, [N, …] each.</param>
    /// <param name="rowImage">For each relevance row, its image.</param>
    /// <param name="images">N.</param>
    /// <param name="negatedUnit">CLRP2: per row, the logit layer's unit to negate, or −1; null when not CLRP2.</param>
    /// <param name="pool">Where tensors come from.</param>
    /// <param name="timer">Receives ("denominators" | "transposed", start timestamp) of every kernel product, for profiles.</param>
    public EagerAlgebra(IReadOnlyDictionary<string, Tensor> activations, int[] rowImage, int images, int[]? negatedUnit, BufferPool? pool, Action<string, long>? timer)
    {
        _activations = activations;
        _rowImage = rowImage;
        _images = images;
        _negatedUnit = negatedUnit;
        _pool = pool;
        _timer = timer;
    }

    /// <summary>Number of relevance rows.</summary>
    public int RowCount => _rowImage.Length;

    /// <summary>Wraps <paramref name="tensor"/> ([rows, …]) as relevance rows.</summary>
    public RelValue RowsOf(Tensor tensor) => new TensorValue(ValueKind.Rows, tensor);

    /// <summary>The tensor behind <paramref name="value"/>.</summary>
    public static Tensor TensorOf(RelValue value) => ((TensorValue)value).Tensor;

    /// <summary>
    /// Hands back to the pool every tensor this algebra created that none of <paramref name="keep"/> holds (views included);
    /// the walk calls it after each node with the relevance still pending.
    /// </summary>
    public void Recycle(IEnumerable<RelValue> keep)
    {
        var held = new HashSet<float[]>(keep.Select(v => TensorOf(v).Data), ReferenceEqualityComparer.Instance);
        var stillHeld = new List<Tensor>();
        var returned = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        foreach (Tensor t in _created)
        {
            if (held.Contains(t.Data))
            {
                stillHeld.Add(t);
            }
            else if (returned.Add(t.Data))
            {
                _pool?.Return(t);
            }
        }

        _created.Clear();
        _created.AddRange(stillHeld);
    }

    /// <summary>
    /// A captured value: per image, or shared when the graph computed it from constants alone (batch 1 in a batch of more,
    /// e.g. the flat rule's denominator Conv(1, 1) in the capture run).
    /// </summary>
    public RelValue Activation(string name) =>
        _activations.TryGetValue(name, out Tensor? t)
            ? new TensorValue(t.Shape.Length > 0 && t.Shape[0] == 1 && _images > 1 ? ValueKind.Shared : ValueKind.Image, t)
            : throw new InvalidOperationException($"activation '{name}' was not captured (planner bug).");

    public RelValue Constant(float[] values, int[] rowShape) => new TensorValue(ValueKind.Shared, new Tensor(values, [1, .. rowShape]));

    public RelValue Zeros(int[] rowShape) => new TensorValue(ValueKind.Rows, New(ValueKind.Rows, rowShape, clear: true));

    public bool IsKnownZero(RelValue x) => x.Kind == ValueKind.Shared && !TensorOf(x).Data.AsSpan().ContainsAnyExcept(0f);

    public RelValue Reshape(RelValue x, int[] rowShape)
    {
        Tensor t = TensorOf(x);
        return new TensorValue(x.Kind, t.Reshape([t.Shape[0], .. rowShape]));
    }

    public RelValue Forward(ILinearKernel kernel, RelValue x, LinearWeights? weights)
    {
        long started = Stopwatch.GetTimestamp();
        Tensor z = Track(kernel.Forward(TensorOf(x), weights, _pool));
        _timer?.Invoke("denominators", started);
        return new TensorValue(x.Kind, z);
    }

    public RelValue Adjoint(ILinearKernel kernel, RelValue g, LinearWeights? weights)
    {
        long started = Stopwatch.GetTimestamp();
        Tensor r = Track(kernel.InputGradient(TensorOf(g), weights, _pool));
        _timer?.Invoke("transposed", started);
        return new TensorValue(g.Kind, r);
    }

    public RelValue AddBias(ILinearKernel kernel, RelValue z, float[] bias)
    {
        Tensor source = TensorOf(z);
        Tensor sum = New(z.Kind, z.RowShape, clear: false, batch: source.Shape[0]);
        source.Data.CopyTo(sum.Data, 0);
        kernel.AddBias(sum, bias);
        return new TensorValue(z.Kind, sum);
    }

    public RelValue NegationMask(int[] rowShape)
    {
        int units = rowShape.Length == 0 ? 1 : rowShape[0];
        int[] maskRow = [units, .. Enumerable.Repeat(1, Math.Max(0, rowShape.Length - 1))];
        Tensor mask = New(ValueKind.Rows, maskRow, clear: true);
        for (int r = 0; r < RowCount; r++)
        {
            int u = _negatedUnit?[r] ?? -1;
            if (u >= 0)
            {
                mask.Data[(r * units) + u] = 1f;
            }
        }

        return new TensorValue(ValueKind.Rows, mask);
    }

    /// <summary>Batch entries of a value of <paramref name="kind"/>.</summary>
    private int Count(ValueKind kind) => kind switch
    {
        ValueKind.Shared => 1,
        ValueKind.Image => _images,
        _ => RowCount,
    };

    /// <summary>The batch entry of <paramref name="v"/> that entry <paramref name="e"/> of a <paramref name="result"/>-kind value reads.</summary>
    private int EntryOf(RelValue v, ValueKind result, int e) => v.Kind switch
    {
        ValueKind.Shared => 0,
        _ when v.Kind == result => e,
        _ => _rowImage[e], // an image read by one of its rows
    };

    /// <summary>A pooled tensor [batch, …rowShape] (batch from the kind unless given), tracked for <see cref="Recycle"/>.</summary>
    private Tensor New(ValueKind kind, int[] rowShape, bool clear, int? batch = null)
    {
        int[] shape = [batch ?? Count(kind), .. rowShape];
        return Track(_pool?.Rent(shape, clear) ?? new Tensor(shape));
    }

    private Tensor Track(Tensor t)
    {
        _created.Add(t);
        return t;
    }

    /// <summary>x with stab applied: <c>x + ε·(x ≥ 0 ? 1 : −1)</c>, exactly 0 replaced by +∞ (so that R/stab drops to 0).</summary>
    private static void Stabilize(ReadOnlySpan<float> x, Span<float> d, float epsilon)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i] >= 0 ? x[i] + epsilon : x[i] - epsilon;
            d[i] = v == 0f ? float.PositiveInfinity : v;
        }
    }

    /// <remarks>The sign fact changes nothing here (the general form gives the same values for such z); the emitted form uses it.</remarks>
    public RelValue DivideStabilized(RelValue relevance, RelValue denominator, float epsilon, int knownSign = 0)
    {
        Tensor z = TensorOf(denominator);
        Tensor d = New(denominator.Kind, denominator.RowShape, clear: false, batch: z.Shape[0]);
        Stabilize(z.Data, d.Data, epsilon);
        return Binary(BinaryOp.Divide, relevance, new TensorValue(denominator.Kind, d));
    }

    public RelValue Unary(UnaryOp op, RelValue x)
    {
        Tensor t = TensorOf(x);
        Tensor y = New(x.Kind, x.RowShape, clear: false, batch: t.Shape[0]);
        ReadOnlySpan<float> s = t.Data;
        Span<float> d = y.Data;
        switch (op)
        {
            case UnaryOp.Negate:
                TensorPrimitives.Negate(s, d);
                break;
            case UnaryOp.Relu:
                TensorPrimitives.Max(s, 0f, d);
                break;
            case UnaryOp.Exp:
                TensorPrimitives.Exp(s, d);
                break;
            case UnaryOp.Tanh:
                TensorPrimitives.Tanh(s, d);
                break;
            case UnaryOp.Sigmoid:
                TensorPrimitives.Sigmoid(s, d);
                break;
            case UnaryOp.Abs:
                TensorPrimitives.Abs(s, d);
                break;
            case UnaryOp.Reciprocal:
                TensorPrimitives.Reciprocal(s, d);
                break;
            case UnaryOp.Erf:
                for (int i = 0; i < s.Length; i++)
                {
                    d[i] = (float)ErrorFunction.Erf(s[i]);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(op));
        }

        return new TensorValue(x.Kind, y);
    }

    public RelValue Binary(BinaryOp op, RelValue a, RelValue b)
    {
        ValueKind kind = RelValue.Combine(a.Kind, b.Kind);
        int[] outRow = BroadcastIndex.Shape(a.RowShape, b.RowShape)
            ?? throw new InvalidOperationException($"row shapes {a.ShapeText} and {b.ShapeText} do not broadcast ({op}).");
        Tensor ta = TensorOf(a), tb = TensorOf(b);
        Tensor result = New(kind, outRow, clear: false);
        int length = result.RowLength, la = a.RowLength, lb = b.RowLength;
        int[]? mapA = la == length ? null : BroadcastIndex.Map(a.RowShape, outRow);
        int[]? mapB = lb == length ? null : BroadcastIndex.Map(b.RowShape, outRow);
        for (int e = 0; e < result.Shape[0]; e++)
        {
            ReadOnlySpan<float> sa = ta.Data.AsSpan(EntryOf(a, kind, e) * la, la);
            ReadOnlySpan<float> sb = tb.Data.AsSpan(EntryOf(b, kind, e) * lb, lb);
            Span<float> d = result.Data.AsSpan(e * length, length);
            if (mapA is null && mapB is null)
            {
                Apply(op, sa, sb, d);
            }
            else if (mapA is null && lb == 1)
            {
                ApplyScalar(op, sa, sb[0], d);
            }
            else
            {
                for (int j = 0; j < length; j++)
                {
                    d[j] = Apply(op, sa[mapA?[j] ?? j], sb[mapB?[j] ?? j]);
                }
            }
        }

        return new TensorValue(kind, result);
    }

    public RelValue Where(RelValue condition, RelValue whenTrue, RelValue whenFalse)
    {
        ValueKind kind = RelValue.Combine(RelValue.Combine(condition.Kind, whenTrue.Kind), whenFalse.Kind);
        int[] outRow = BroadcastIndex.Shape(condition.RowShape, whenTrue.RowShape, whenFalse.RowShape)
            ?? throw new InvalidOperationException($"row shapes {condition.ShapeText}, {whenTrue.ShapeText} and {whenFalse.ShapeText} do not broadcast (Where).");
        Tensor tc = TensorOf(condition), ta = TensorOf(whenTrue), tb = TensorOf(whenFalse);
        int[] mc = BroadcastIndex.Map(condition.RowShape, outRow), ma = BroadcastIndex.Map(whenTrue.RowShape, outRow), mb = BroadcastIndex.Map(whenFalse.RowShape, outRow);
        Tensor result = New(kind, outRow, clear: false);
        int length = result.RowLength;
        for (int e = 0; e < result.Shape[0]; e++)
        {
            ReadOnlySpan<float> sc = tc.Row(EntryOf(condition, kind, e)), sa = ta.Row(EntryOf(whenTrue, kind, e)), sb = tb.Row(EntryOf(whenFalse, kind, e));
            Span<float> d = result.Data.AsSpan(e * length, length);
            for (int j = 0; j < length; j++)
            {
                d[j] = sc[mc[j]] != 0f ? sa[ma[j]] : sb[mb[j]];
            }
        }

        return new TensorValue(kind, result);
    }

    private static void Apply(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add:
                TensorPrimitives.Add(a, b, d);
                break;
            case BinaryOp.Subtract:
                TensorPrimitives.Subtract(a, b, d);
                break;
            case BinaryOp.Multiply:
                TensorPrimitives.Multiply(a, b, d);
                break;
            case BinaryOp.Divide:
                TensorPrimitives.Divide(a, b, d);
                break;
            default:
                for (int j = 0; j < d.Length; j++)
                {
                    d[j] = Apply(op, a[j], b[j]);
                }

                break;
        }
    }

    private static void ApplyScalar(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> d)
    {
        switch (op)
        {
            case BinaryOp.Add:
                TensorPrimitives.Add(a, b, d);
                break;
            case BinaryOp.Subtract:
                TensorPrimitives.Subtract(a, b, d);
                break;
            case BinaryOp.Multiply:
                TensorPrimitives.Multiply(a, b, d);
                break;
            case BinaryOp.Divide:
                TensorPrimitives.Divide(a, b, d);
                break;
            default:
                for (int j = 0; j < d.Length; j++)
                {
                    d[j] = Apply(op, a[j], b);
                }

                break;
        }
    }

    private static float Apply(BinaryOp op, float a, float b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Subtract => a - b,
        BinaryOp.Multiply => a * b,
        BinaryOp.Divide => a / b,
        BinaryOp.Power => MathF.Pow(a, b),
        BinaryOp.Greater => a > b ? 1f : 0f,
        BinaryOp.Less => a < b ? 1f : 0f,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
