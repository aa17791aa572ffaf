using Clrp.Onnx.Emitting;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Algebra;

/// <summary>The emitting interpreter's element-wise, shape and winner-take-all operations.</summary>
internal sealed partial class EmittingAlgebra
{
    public RelValue Unary(UnaryOp op, RelValue x)
    {
        string name = op switch
        {
            UnaryOp.Negate => _e.Node("Neg", [NameOf(x)]),
            UnaryOp.Relu => _e.Node("Relu", [NameOf(x)]),
            UnaryOp.Exp => _e.Node("Exp", [NameOf(x)]),
            UnaryOp.Tanh => _e.Node("Tanh", [NameOf(x)]),
            UnaryOp.Sigmoid => _e.Node("Sigmoid", [NameOf(x)]),
            UnaryOp.Abs => _e.Node("Abs", [NameOf(x)]),
            UnaryOp.Reciprocal => _e.Node("Reciprocal", [NameOf(x)]),
            UnaryOp.Erf => _e.Node("Erf", [NameOf(x)]),
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
        return new SymbolValue(x.Kind, name, x.RowShape);
    }

    public RelValue Binary(BinaryOp op, RelValue a, RelValue b) =>
        Elementwise([a, b], names => op switch
        {
            BinaryOp.Add => _e.Node("Add", names),
            BinaryOp.Subtract => _e.Node("Sub", names),
            BinaryOp.Multiply => _e.Node("Mul", names),
            BinaryOp.Divide => _e.Node("Div", names),
            BinaryOp.Power => _e.Node("Pow", names),
            BinaryOp.Greater => _e.GreaterFloat(names[0], names[1]),
            BinaryOp.Less => _e.LessFloat(names[0], names[1]),
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        });

    public RelValue Where(RelValue condition, RelValue whenTrue, RelValue whenFalse) =>
        Elementwise([condition, whenTrue, whenFalse], names => _e.Select(names[0], names[1], names[2]));

    public RelValue DivideStabilized(RelValue relevance, RelValue denominator, float epsilon, int knownSign = 0)
    {
        string z = NameOf(denominator);
        if (epsilon > 0f && knownSign != 0)
        {
            // The sign is known (z⁺: a sum of non-negative products): stab(z) = z ± ε without the test; z is never −0 here
            // (a float sum of non-negative terms is +0 or positive), so the values equal the general form's.
            string d = _e.Node(knownSign > 0 ? "Add" : "Sub", [z, _e.Scalar(epsilon)]);
            return Binary(BinaryOp.Divide, relevance, new SymbolValue(denominator.Kind, d, denominator.RowShape));
        }

        if (epsilon > 0f)
        {
            // stab(z) = z − ε where z < 0, z + ε elsewhere: one rounding each, as the eager form; never 0 for ε > 0.
            string negative = _e.LessFloat(z, _e.Scalar(0f));
            string d = _e.Select(negative, _e.Node("Sub", [z, _e.Scalar(epsilon)]), _e.Node("Add", [z, _e.Scalar(epsilon)]));
            return Binary(BinaryOp.Divide, relevance, new SymbolValue(denominator.Kind, d, denominator.RowShape));
        }

        // ε = 0: where z is exactly 0 the relevance is dropped: R/(z + 1)·0.
        string nonzero = _e.Node("Add", [_e.GreaterFloat(z, _e.Scalar(0f)), _e.LessFloat(z, _e.Scalar(0f))]);
        string safe = _e.Node("Add", [z, _e.Node("Sub", [_e.Scalar(1f), nonzero])]);
        RelValue quotient = Binary(BinaryOp.Divide, relevance, new SymbolValue(denominator.Kind, safe, denominator.RowShape));
        return Binary(BinaryOp.Multiply, quotient, new SymbolValue(denominator.Kind, nonzero, denominator.RowShape));
    }

    public RelValue BroadcastTo(RelValue x, int[] rowShape)
    {
        if (x.RowShape.SequenceEqual(rowShape))
        {
            return x;
        }

        string padded = NameOf(Reshape(x, Padded(x.RowShape, rowShape.Length)));
        string name = _e.Opset >= 8
            ? _e.Node("Expand", [padded, _e.Vector([1, .. rowShape.Select(d => (long)d)])])
            : _e.Node("Mul", [padded, _e.Filled(1f, [1, .. rowShape], "ones")]);
        return new SymbolValue(x.Kind, name, rowShape);
    }

    public RelValue SumTo(RelValue x, int[] rowShape)
    {
        if (x.RowLength == Tensor.CheckedCount(rowShape))
        {
            return Reshape(x, rowShape);
        }

        int rank = x.RowShape.Length;
        int[] target = Padded(rowShape, rank);
        long[] axes = Enumerable.Range(0, rank).Where(a => target[a] == 1 && x.RowShape[a] != 1).Select(a => (long)a + 1).ToArray();
        string summed = _e.Reduce("ReduceSum", NameOf(x), axes, keepDims: true);
        return Reshape(new SymbolValue(x.Kind, summed, target), rowShape);
    }

    public RelValue Reduce(ReduceOp op, RelValue x, int[] rowAxes)
    {
        string onnx = op switch { ReduceOp.Sum => "ReduceSum", ReduceOp.Max => "ReduceMax", _ => "ReduceMin" };
        int[] kept = x.RowShape.Select((d, a) => rowAxes.Contains(a) ? 1 : d).ToArray();
        return new SymbolValue(x.Kind, _e.Reduce(onnx, NameOf(x), rowAxes.Select(a => (long)a + 1).ToArray(), keepDims: true), kept);
    }

    public RelValue Slice(RelValue x, int rowAxis, int start, int length)
    {
        int[] row = (int[])x.RowShape.Clone();
        row[rowAxis] = length;
        return new SymbolValue(x.Kind, _e.Slice(NameOf(x), [start], [start + length], [rowAxis + 1]), row);
    }

    public RelValue Concat(IReadOnlyList<RelValue> parts, int rowAxis)
    {
        ValueKind kind = parts[0].Kind;
        if (parts.Any(p => p.Kind != kind))
        {
            throw new InvalidOperationException("Concat joins values of one kind.");
        }

        int[] row = (int[])parts[0].RowShape.Clone();
        row[rowAxis] = parts.Sum(p => p.RowShape[rowAxis]);
        return new SymbolValue(kind, _e.Node("Concat", parts.Select(NameOf).ToArray(), OnnxEmitter.Int("axis", rowAxis + 1)), row);
    }

    public RelValue WinnerTakeAll(SparseKernel windows, RelValue x, RelValue relevance)
    {
        if (windows.Tiles is { } tiles)
        {
            return WinnerTakeAllTiled(windows, tiles, x, relevance);
        }

        // Unfold each window with −∞ in place of padding, mark the maxima, share equally among ties (image-level) …
        int blocks = windows.Blocks, outBlock = windows.OutBlock, taps = windows.Taps;
        string blocked = _e.Reshape(NameOf(x), Batch(x), blocks, windows.InBlock);
        string padded = _e.Pad(blocked, [0, 0, 0, 0, 0, 1], float.NegativeInfinity);
        long[] index = Array.ConvertAll(windows.Index, i => (long)(i < 0 ? windows.InBlock : i));
        string unfolded = _e.Reshape(_e.Node("Gather", [padded, _e.Longs(index, [index.Length])], OnnxEmitter.Int("axis", 2)), Batch(x), blocks, outBlock, taps);
        string max = _e.Reduce("ReduceMax", unfolded, [3], keepDims: true);
        string isMax = _e.Node("Sub", [_e.Scalar(1f), _e.LessFloat(unfolded, max)]);
        string share = _e.Node("Div", [isMax, _e.Reduce("ReduceSum", isMax, [3], keepDims: true)]);

        // … then each row's relevance times its image's shares, returned through the inverse table.
        RelValue perOutput = Reshape(relevance, [blocks, outBlock, 1]);
        RelValue contributions = Binary(BinaryOp.Multiply, perOutput, new SymbolValue(x.Kind, share, [blocks, outBlock, taps]));
        (int[] entries, int width) = windows.Inverse(byTap: true);
        string flat = _e.Reshape(NameOf(contributions), Batch(contributions), blocks, outBlock * taps);
        return new SymbolValue(contributions.Kind, windows.Fold(_e, flat, outBlock * taps, entries, width), windows.InputShape);
    }

    /// <summary>Winner-take-all over windows that tile the plane: maxima and shares per tile by reductions, no gathers.</summary>
    private RelValue WinnerTakeAllTiled(SparseKernel windows, PlaneTiles tiles, RelValue x, RelValue relevance)
    {
        int blocks = windows.Blocks;
        string tiled = _e.Reshape(NameOf(x), Batch(x), blocks, tiles.OutH, tiles.TileH, tiles.OutW, tiles.TileW);
        string max = _e.Reduce("ReduceMax", tiled, [3, 5], keepDims: true);
        string isMax = _e.Node("Sub", [_e.Scalar(1f), _e.LessFloat(tiled, max)]);
        string share = _e.Node("Div", [isMax, _e.Reduce("ReduceSum", isMax, [3, 5], keepDims: true)]);
        RelValue perTile = Reshape(relevance, [blocks, tiles.OutH, 1, tiles.OutW, 1]);
        RelValue spread = Binary(BinaryOp.Multiply, perTile, new SymbolValue(x.Kind, share, [blocks, tiles.OutH, tiles.TileH, tiles.OutW, tiles.TileW]));
        return Reshape(spread, windows.InputShape);
    }

    /// <summary>
    /// Applies <paramref name="op"/> to operands of any kinds: row shapes are padded to one rank (right-aligned), and where
    /// rows meet images with S &gt; 1 rows are viewed as [N, S, …] and images as [N, 1, …] so each row meets its image.
    /// </summary>
    private SymbolValue Elementwise(RelValue[] operands, Func<string[], string> op)
    {
        ValueKind kind = operands.Select(o => o.Kind).Aggregate(RelValue.Combine);
        int[] outRow = BroadcastIndex.Shape(operands.Select(o => o.RowShape).ToArray())
            ?? throw new InvalidOperationException($"row shapes {string.Join(", ", operands.Select(o => o.ShapeText))} do not broadcast.");
        int rank = outRow.Length;
        bool grouped = _context.RowsPerImage > 1 && operands.Any(o => o.Kind == ValueKind.Rows) && operands.Any(o => o.Kind == ValueKind.Image);
        var names = new string[operands.Length];
        for (int i = 0; i < operands.Length; i++)
        {
            RelValue o = operands[i];
            int[] padded = Padded(o.RowShape, rank);
            if (!grouped)
            {
                names[i] = NameOf(Reshape(o, padded));
                continue;
            }

            long[] lead = o.Kind switch
            {
                ValueKind.Rows => [-1, _context.RowsPerImage],
                ValueKind.Image => [-1, 1],
                _ => [1, 1],
            };
            names[i] = _e.Reshape(NameOf(o), [.. lead, .. padded.Select(d => (long)d)]);
        }

        string result = op(names);
        if (grouped)
        {
            result = _e.Reshape(result, [-1, .. outRow.Select(d => (long)d)]);
        }

        return new SymbolValue(kind, result, outRow);
    }

    /// <summary><paramref name="shape"/> with leading 1s up to <paramref name="rank"/> axes.</summary>
    private static int[] Padded(int[] shape, int rank) =>
        shape.Length >= rank ? shape : [.. Enumerable.Repeat(1, rank - shape.Length), .. shape];
}
