using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Concat and Split along a non-batch axis: routing (DESIGN §1). Concat hands each input the block of the output
/// relevance it filled (constant inputs get none); Split gathers its outputs' relevance back into the input (an output
/// nobody explains contributes zeros). Relevance and gradient alike.
/// </summary>
internal static class ConcatSplitOps
{
    public static void Register(OperatorRegistry registry)
    {
        // Concat-4+ (axis required, negative from 11); ONNX Runtime has no Concat-1 kernel to verify against.
        registry.Register("Concat", 4, 22, (n, g) => new ConcatPropagator(n, g));
        // Split sizes: attribute 'split' (2–12), input 'split' (13+), or attribute 'num_outputs' (18+); else equal parts.
        registry.Register("Split", 2, 22, (n, g) => new SplitPropagator(n, g));
    }

    /// <summary>Elements before <paramref name="axis"/> (outer blocks) and after it (inner run) of a per-row shape.</summary>
    internal static (int Outer, int Inner) Blocks(int[] rowShape, int axis) =>
        (rowShape[..axis].Aggregate(1, (a, b) => a * b), rowShape[(axis + 1)..].Aggregate(1, (a, b) => a * b));

    /// <summary>The axis normalised to the full rank, refused when it is the batch axis; returned as a per-row axis.</summary>
    internal static int RowAxis(Node node, long axis, int rank)
    {
        int full = RouteGeometry.NormalizeAxis(node, axis, rank);
        return full > 0 ? full - 1 : throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "it works along the batch axis, which would mix images");
    }
}

/// <summary>Concat: <c>R_k = R_y[…, offset_k : offset_k + d_k, …]</c> along the axis, for each input k that is an activation.</summary>
internal sealed class ConcatPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly OnnxGraph _graph;
    private readonly long _axis;

    public ConcatPropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        _graph = graph;
        _axis = node.Attributes.GetInt("axis", long.MinValue);
        if (_axis == long.MinValue)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "the required attribute 'axis' is missing");
        }

        foreach (string input in node.Inputs.Where(i => !graph.IsConstant(i) && !DataFlow.IsActivation(graph, i)))
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"its input '{input}' is computed from shapes at run time; only activations and constants can be concatenated");
        }
    }

    public IEnumerable<string> RequiredValues => _node.Inputs.Where(i => !_graph.IsConstant(i)).Distinct(StringComparer.Ordinal);

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        int[][] shapes = _node.Inputs.Select(i => _graph.Constants.TryGetValue(i, out ConstantTensor? c) ? c.Shape : context.Activation(i).Shape).ToArray();
        int axis = ConcatSplitOps.RowAxis(_node, _axis, shapes[0].Length);
        int[] outRow = shapes[0][1..];
        outRow[axis] = shapes.Sum(s => s[axis + 1]);
        (int outer, int inner) = ConcatSplitOps.Blocks(outRow, axis);
        int rows = context.Rows, outLength = outer * outRow[axis] * inner;
        Tensor r = outputRelevance[0]!;
        var result = new Tensor?[_node.Inputs.Count];
        int offset = 0;
        for (int k = 0; k < shapes.Length; k++)
        {
            int run = shapes[k][axis + 1] * inner;
            if (!_graph.IsConstant(_node.Inputs[k]))
            {
                var part = context.NewTensor([rows, .. shapes[k][1..]]);
                for (int row = 0; row < rows; row++)
                {
                    for (int o = 0; o < outer; o++)
                    {
                        r.Data.AsSpan((row * outLength) + (o * outRow[axis] * inner) + offset, run).CopyTo(part.Data.AsSpan((row * outer * run) + (o * run), run));
                    }
                }

                result[k] = part;
            }

            offset += run;
        }

        return result;
    }
}

/// <summary>Split: <c>R_x[…, offset_k : offset_k + d_k, …] = R_k</c> along the axis (zeros for outputs without relevance).</summary>
internal sealed class SplitPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly long _axis;
    private readonly long[]? _sizes;

    public SplitPropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        _axis = node.Attributes.GetInt("axis", 0);
        _sizes = node.Opset < 13 ? node.Attributes.GetInts("split")
            : node.Input(1).Length > 0 ? graph.RequireConstant(node.Input(1), node, "split").AsLongs() : null;
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        int[] inShape = context.Activation(_node.Input(0)).Shape;
        int axis = ConcatSplitOps.RowAxis(_node, _axis, inShape.Length);
        int[] inRow = inShape[1..];
        int[] sizes = Sizes(inRow[axis]);
        (int outer, int inner) = ConcatSplitOps.Blocks(inRow, axis);
        int rows = context.Rows, inLength = outer * inRow[axis] * inner;
        var result = context.NewTensor([rows, .. inRow]);
        int offset = 0;
        for (int k = 0; k < sizes.Length; k++)
        {
            int run = sizes[k] * inner;
            if (outputRelevance[k] is Tensor r)
            {
                for (int row = 0; row < rows; row++)
                {
                    for (int o = 0; o < outer; o++)
                    {
                        r.Data.AsSpan((row * outer * run) + (o * run), run).CopyTo(result.Data.AsSpan((row * inLength) + (o * inRow[axis] * inner) + offset, run));
                    }
                }
            }

            offset += run;
        }

        var inputs = new Tensor?[_node.Inputs.Count];
        inputs[0] = result;
        return inputs;
    }

    /// <summary>The part sizes: given, or <c>⌈dim/outputs⌉</c> each with a smaller last part (opset 18 semantics; equal parts before).</summary>
    private int[] Sizes(int dim)
    {
        int outputs = _node.Outputs.Count;
        int[] sizes = _sizes is not null ? Array.ConvertAll(_sizes, v => (int)v)
            : Enumerable.Range(0, outputs).Select(k => Math.Max(0, Math.Min((dim + outputs - 1) / outputs, dim - (k * ((dim + outputs - 1) / outputs))))).ToArray();
        if (sizes.Length != outputs || sizes.Sum() != dim)
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"split sizes [{string.Join(',', sizes)}] do not divide an axis of {dim} into {outputs} outputs");
        }

        return sizes;
    }
}
