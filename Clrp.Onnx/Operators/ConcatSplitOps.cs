using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;

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

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        int[][] rows = _node.Inputs.Select(i => _graph.Constants.TryGetValue(i, out ConstantTensor? c) ? c.Shape[1..] : alg.Activation(i).RowShape).ToArray();
        int axis = ConcatSplitOps.RowAxis(_node, _axis, rows[0].Length + 1);
        int[] outRow = (int[])rows[0].Clone();
        outRow[axis] = rows.Sum(s => s[axis]);
        RelValue r = alg.Reshape(outputRelevance[0]!, outRow);
        var result = new RelValue?[_node.Inputs.Count];
        int offset = 0;
        for (int k = 0; k < rows.Length; k++)
        {
            if (!_graph.IsConstant(_node.Inputs[k]))
            {
                result[k] = alg.Slice(r, axis, offset, rows[k][axis]);
            }

            offset += rows[k][axis];
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

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        int[] inRow = alg.Activation(_node.Input(0)).RowShape;
        int axis = ConcatSplitOps.RowAxis(_node, _axis, inRow.Length + 1);
        int[] sizes = Sizes(inRow[axis]);
        var parts = new List<RelValue>(sizes.Length);
        for (int k = 0; k < sizes.Length; k++)
        {
            int[] partRow = (int[])inRow.Clone();
            partRow[axis] = sizes[k];
            if (sizes[k] > 0)
            {
                parts.Add(outputRelevance[k] is RelValue r ? alg.Reshape(r, partRow) : alg.Zeros(partRow));
            }
        }

        var inputs = new RelValue?[_node.Inputs.Count];
        inputs[0] = parts.Count == 1 ? parts[0] : alg.Concat(parts, axis);
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
