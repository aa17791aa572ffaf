using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Algebra;

/// <summary>The eager interpreter's shape operations (broadcast, sum back, reduce, slice, concat) and winner-take-all.</summary>
internal sealed partial class EagerAlgebra
{
    public RelValue BroadcastTo(RelValue x, int[] rowShape)
    {
        Tensor t = TensorOf(x);
        int[] map = BroadcastIndex.Map(x.RowShape, rowShape);
        Tensor result = New(x.Kind, rowShape, clear: false, batch: t.Shape[0]);
        int length = map.Length, source = x.RowLength;
        for (int e = 0; e < t.Shape[0]; e++)
        {
            ReadOnlySpan<float> s = t.Data.AsSpan(e * source, source);
            Span<float> d = result.Data.AsSpan(e * length, length);
            for (int j = 0; j < length; j++)
            {
                d[j] = s[map[j]];
            }
        }

        return new TensorValue(x.Kind, result);
    }

    public RelValue SumTo(RelValue x, int[] rowShape)
    {
        if (x.RowLength == Tensor.CheckedCount(rowShape))
        {
            return Reshape(x, rowShape);
        }

        return Accumulate(x, rowShape, BroadcastIndex.Map(rowShape, x.RowShape), ReduceOp.Sum);
    }

    public RelValue Reduce(ReduceOp op, RelValue x, int[] rowAxes)
    {
        int[] kept = x.RowShape.Select((d, a) => rowAxes.Contains(a) ? 1 : d).ToArray();
        return Accumulate(x, kept, BroadcastIndex.Map(kept, x.RowShape), op);
    }

    /// <summary>result[map[j]] ∘= x[j] over every element j of each entry (∘ = +, max or min).</summary>
    private RelValue Accumulate(RelValue x, int[] rowShape, int[] map, ReduceOp op)
    {
        Tensor t = TensorOf(x);
        Tensor result = New(x.Kind, rowShape, clear: true, batch: t.Shape[0]);
        if (op != ReduceOp.Sum)
        {
            Array.Fill(result.Data, op == ReduceOp.Max ? float.NegativeInfinity : float.PositiveInfinity);
        }

        int length = result.RowLength, source = x.RowLength;
        for (int e = 0; e < t.Shape[0]; e++)
        {
            ReadOnlySpan<float> s = t.Data.AsSpan(e * source, source);
            Span<float> d = result.Data.AsSpan(e * length, length);
            for (int j = 0; j < source; j++)
            {
                int i = map[j];
                d[i] = op switch
                {
                    ReduceOp.Sum => d[i] + s[j],
                    ReduceOp.Max => Math.Max(d[i], s[j]),
                    _ => Math.Min(d[i], s[j]),
                };
            }
        }

        return new TensorValue(x.Kind, result);
    }

    public RelValue Slice(RelValue x, int rowAxis, int start, int length)
    {
        Tensor t = TensorOf(x);
        int[] row = x.RowShape;
        int outer = row[..rowAxis].Aggregate(1, (a, b) => a * b), inner = row[(rowAxis + 1)..].Aggregate(1, (a, b) => a * b);
        int[] outRow = (int[])row.Clone();
        outRow[rowAxis] = length;
        Tensor result = New(x.Kind, outRow, clear: false, batch: t.Shape[0]);
        int run = length * inner, source = x.RowLength, target = result.RowLength;
        for (int e = 0; e < t.Shape[0]; e++)
        {
            for (int o = 0; o < outer; o++)
            {
                t.Data.AsSpan((e * source) + (((o * row[rowAxis]) + start) * inner), run).CopyTo(result.Data.AsSpan((e * target) + (o * run), run));
            }
        }

        return new TensorValue(x.Kind, result);
    }

    public RelValue Concat(IReadOnlyList<RelValue> parts, int rowAxis)
    {
        ValueKind kind = parts.Select(p => p.Kind).Aggregate(RelValue.Combine);
        if (parts.Any(p => p.Kind != kind))
        {
            throw new InvalidOperationException("Concat joins values of one kind.");
        }

        int[] outRow = (int[])parts[0].RowShape.Clone();
        outRow[rowAxis] = parts.Sum(p => p.RowShape[rowAxis]);
        int outer = outRow[..rowAxis].Aggregate(1, (a, b) => a * b), inner = outRow[(rowAxis + 1)..].Aggregate(1, (a, b) => a * b);
        Tensor result = New(kind, outRow, clear: false);
        int target = result.RowLength;
        int offset = 0;
        foreach (RelValue part in parts)
        {
            Tensor t = TensorOf(part);
            int run = part.RowShape[rowAxis] * inner, source = part.RowLength;
            for (int e = 0; e < result.Shape[0]; e++)
            {
                for (int o = 0; o < outer; o++)
                {
                    t.Data.AsSpan((e * source) + (o * run), run).CopyTo(result.Data.AsSpan((e * target) + (o * outRow[rowAxis] * inner) + offset, run));
                }
            }

            offset += run;
        }

        return new TensorValue(kind, result);
    }

    public RelValue WinnerTakeAll(SparseKernel windows, RelValue x, RelValue relevance)
    {
        Tensor xs = TensorOf(x), rs = TensorOf(relevance);
        ValueKind kind = RelValue.Combine(x.Kind, relevance.Kind);
        Tensor result = New(kind, windows.InputShape, clear: true);
        int inLength = windows.InBlock * windows.Blocks, outLength = windows.OutBlock * windows.Blocks;
        int taps = windows.Taps;
        int[] index = windows.Index;
        Parallel.For(0, result.Shape[0] * windows.Blocks, new ParallelOptions { MaxDegreeOfParallelism = (long)result.Length < 1 << 16 ? 1 : -1 }, eb =>
        {
            int e = eb / windows.Blocks, block = eb % windows.Blocks;
            ReadOnlySpan<float> xb = xs.Data.AsSpan((EntryOf(x, kind, e) * inLength) + (block * windows.InBlock), windows.InBlock);
            ReadOnlySpan<float> rb = rs.Data.AsSpan((EntryOf(relevance, kind, e) * outLength) + (block * windows.OutBlock), windows.OutBlock);
            Span<float> dest = result.Data.AsSpan((e * inLength) + (block * windows.InBlock), windows.InBlock);
            for (int j = 0; j < windows.OutBlock; j++)
            {
                float rj = rb[j];
                if (rj == 0f)
                {
                    continue;
                }

                float max = float.NegativeInfinity;
                int ties = 0;
                for (int t = 0, k = j * taps; t < taps; t++, k++)
                {
                    if (index[k] < 0)
                    {
                        continue;
                    }

                    float v = xb[index[k]];
                    if (v > max)
                    {
                        max = v;
                        ties = 1;
                    }
                    else if (v == max)
                    {
                        ties++;
                    }
                }

                if (ties == 0)
                {
                    continue;
                }

                float share = rj / ties;
                for (int t = 0, k = j * taps; t < taps; t++, k++)
                {
                    if (index[k] >= 0 && xb[index[k]] == max)
                    {
                        dest[index[k]] += share;
                    }
                }
            }
        });

        return new TensorValue(kind, result);
    }
}
