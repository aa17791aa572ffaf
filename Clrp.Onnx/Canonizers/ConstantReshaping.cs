using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// The element-moving ops of <see cref="ConstantEvaluator"/> (ONNX semantics): each result picks elements of its input
/// by flat index, so float and int64 constants share one implementation. Bad arguments throw <see cref="ArgumentException"/>.
/// </summary>
internal static class ConstantReshaping
{
    /// <summary>Shape (opset 15: dims[start:end], negative counted from the end, clamped).</summary>
    public static ConstantTensor Shape(ConstantTensor x, long start, long? end)
    {
        int rank = x.Shape.Length;
        int from = (int)Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        int to = (int)Math.Clamp(end is long e ? (e < 0 ? e + rank : e) : rank, 0, rank);
        long[] dims = x.Shape[from..Math.Max(from, to)].Select(d => (long)d).ToArray();
        return new ConstantTensor([dims.Length], dims);
    }

    public static ConstantTensor Unsqueeze(ConstantTensor x, long[]? axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        int rank = x.Shape.Length + axes.Length;
        int[] inserted = axes.Select(a => Axis(a, rank)).Order().ToArray();
        var shape = new List<int>(x.Shape);
        foreach (int a in inserted)
        {
            shape.Insert(a, 1);
        }

        return WithShape(x, [.. shape]);
    }

    public static ConstantTensor Squeeze(ConstantTensor x, long[]? axes)
    {
        int rank = x.Shape.Length;
        HashSet<int> removed = axes is { Length: > 0 } ? axes.Select(a => Axis(a, rank)).ToHashSet() : Enumerable.Range(0, rank).Where(a => x.Shape[a] == 1).ToHashSet();
        if (removed.Any(a => x.Shape[a] != 1))
        {
            throw new ArgumentException("Squeeze of an axis that is not 1");
        }

        return WithShape(x, x.Shape.Where((_, a) => !removed.Contains(a)).ToArray());
    }

    public static ConstantTensor Flatten(ConstantTensor x, long axis)
    {
        int a = axis < 0 ? (int)axis + x.Shape.Length : (int)axis;
        return WithShape(x, [x.Shape[..a].Aggregate(1, (p, d) => p * d), x.Shape[a..].Aggregate(1, (p, d) => p * d)]);
    }

    /// <summary>Reshape: 0 copies the input's dimension (unless allowzero), −1 is inferred.</summary>
    public static ConstantTensor Reshape(ConstantTensor x, long[]? shape, bool allowZero)
    {
        ArgumentNullException.ThrowIfNull(shape);
        int[] dims = shape.Select((d, i) => d == 0 && !allowZero ? x.Shape[i] : (int)d).ToArray();
        int inferred = Array.IndexOf(dims, -1);
        if (inferred >= 0)
        {
            int known = dims.Where((d, i) => i != inferred).Aggregate(1, (p, d) => p * d);
            dims[inferred] = known == 0 ? 0 : x.Length / known;
        }

        return WithShape(x, dims);
    }

    public static ConstantTensor Concat(IReadOnlyList<ConstantTensor?> inputs, long axis)
    {
        ConstantTensor[] parts = inputs.Select(p => p ?? throw new ArgumentException("missing Concat input")).ToArray();
        int rank = parts[0].Shape.Length, a = Axis(axis, rank);
        int outer = parts[0].Shape[..a].Aggregate(1, (p, d) => p * d);
        int[] shape = (int[])parts[0].Shape.Clone();
        shape[a] = parts.Sum(p => p.Shape[a]);
        bool integral = parts.All(p => p.Longs is not null);
        var longs = new List<long>();
        var floats = new List<float>();
        for (int o = 0; o < outer; o++)
        {
            foreach (ConstantTensor p in parts)
            {
                int run = p.Length / Math.Max(1, outer);
                if (integral)
                {
                    longs.AddRange(p.Longs!.Skip(o * run).Take(run));
                }
                else
                {
                    floats.AddRange(p.AsFloats().Skip(o * run).Take(run));
                }
            }
        }

        return integral ? new ConstantTensor(shape, [.. longs]) : new ConstantTensor(shape, [.. floats]);
    }

    /// <summary>Gather along <paramref name="axis"/>: output shape data[:axis] + indices.shape + data[axis+1:]; negative indices count from the end.</summary>
    public static ConstantTensor Gather(ConstantTensor x, ConstantTensor? indices, long axis)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int a = Axis(axis, x.Shape.Length), dim = x.Shape[a];
        int[] picked = indices.AsLongs().Select(i => (int)(i < 0 ? i + dim : i)).ToArray();
        if (picked.Any(i => i < 0 || i >= dim))
        {
            throw new ArgumentException("Gather index out of range");
        }

        int[][] axes = x.Shape.Select(d => Enumerable.Range(0, d).ToArray()).ToArray();
        axes[a] = picked;
        return Pick(x, [.. x.Shape[..a], .. indices.Shape, .. x.Shape[(a + 1)..]], Select(x.Shape, axes));
    }

    public static ConstantTensor Slice(ConstantTensor x, long[]? starts, long[]? ends, long[]? axes, long[]? steps)
    {
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(ends);
        // ONNX requires equal lengths; a file that breaks that (a fuzz finding) is left unfolded, not indexed past the end.
        if (ends.Length != starts.Length || (axes is not null && axes.Length != starts.Length) || (steps is not null && steps.Length != starts.Length))
        {
            throw new ArgumentException($"Slice has {starts.Length} starts, {ends.Length} ends, {axes?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} axes and {steps?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} steps; ONNX needs as many of each.");
        }

        int[][] kept = x.Shape.Select(d => Enumerable.Range(0, d).ToArray()).ToArray();
        for (int k = 0; k < starts.Length; k++)
        {
            int a = Axis(axes?[k] ?? k, x.Shape.Length);
            kept[a] = OnnxSlicing.Indices(starts[k], ends[k], steps?[k] ?? 1, x.Shape[a]);
        }

        return Pick(x, kept.Select(k => k.Length).ToArray(), Select(x.Shape, kept));
    }

    public static ConstantTensor Transpose(ConstantTensor x, long[]? perm)
    {
        int rank = x.Shape.Length;
        int[] p = perm is null ? Enumerable.Range(0, rank).Reverse().ToArray() : Array.ConvertAll(perm, v => (int)Math.Clamp(v, -1, rank));
        if (p.Length != rank || p.Order().Where((a, i) => a != i).Any())
        {
            throw new ArgumentException($"Transpose perm [{string.Join(',', perm ?? [])}] is not a permutation of the {rank} axes");
        }

        int[] strides = Strides(x.Shape);
        int[] shape = p.Select(a => x.Shape[a]).ToArray();
        int[] offsets = [0];
        foreach (int a in p)
        {
            offsets = offsets.SelectMany(o => Enumerable.Range(0, x.Shape[a]).Select(i => o + (i * strides[a]))).ToArray();
        }

        return Pick(x, shape, offsets);
    }

    public static ConstantTensor Expand(ConstantTensor x, long[] shape)
    {
        int[] target = BroadcastIndex.Shape(x.Shape, Array.ConvertAll(shape, d => (int)d)) ?? throw new ArgumentException("Expand shape does not broadcast");
        return Pick(x, target, BroadcastIndex.Map(x.Shape, target));
    }

    /// <summary>Flat indices of the product of per-axis index lists (C order).</summary>
    private static int[] Select(int[] shape, int[][] axes)
    {
        int[] strides = Strides(shape);
        int[] offsets = [0];
        for (int a = 0; a < shape.Length; a++)
        {
            int axis = a;
            offsets = offsets.SelectMany(o => axes[axis].Select(i => o + (i * strides[axis]))).ToArray();
        }

        return offsets;
    }

    private static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int a = shape.Length - 1; a >= 0; a--)
        {
            strides[a] = stride;
            stride *= shape[a];
        }

        return strides;
    }

    private static ConstantTensor Pick(ConstantTensor x, int[] shape, int[] indices) =>
        x.Floats is { } f ? new ConstantTensor(shape, Array.ConvertAll(indices, i => f[i])) : new ConstantTensor(shape, Array.ConvertAll(indices, i => x.Longs![i]));

    private static ConstantTensor WithShape(ConstantTensor x, int[] shape) =>
        Tensor.CheckedCount(shape) == x.Length ? (x.Floats is { } f ? new ConstantTensor(shape, f) : new ConstantTensor(shape, x.Longs!)) : throw new ArgumentException("element count changes");

    private static int Axis(long axis, int rank) => OnnxSlicing.NormalizeAxis(axis, rank) ?? throw new ArgumentException($"axis {axis} outside rank {rank}");
}
