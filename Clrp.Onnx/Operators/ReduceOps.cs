using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>ReduceMean and ReduceSum over non-batch axes (tf2onnx writes global average pooling as ReduceMean over H, W).</summary>
internal static class ReduceOps
{
    public static void Register(OperatorRegistry registry)
    {
        // Axes: an attribute up to ReduceMean-17 / ReduceSum-12, an input from ReduceMean-18 / ReduceSum-13.
        registry.Register("ReduceMean", 1, 22, (n, g) => new ReducePropagator(n, g, axesAsInputFrom: 18));
        registry.Register("ReduceSum", 1, 22, (n, g) => new ReducePropagator(n, g, axesAsInputFrom: 13));
    }
}

/// <summary>
/// <c>z_j = Σ_{i→j} w·x_i</c> with w = 1/count (mean) or 1 (sum), as a <see cref="SparseKernel"/>. Relevance: the composite's
/// Norm rule (like average pooling), <c>R_i = w·x_i / stab(z_j) · R_j</c>; gradient <c>g_i = w·g_j</c>. keepdims changes only
/// the output shape, not the order.
/// </summary>
internal sealed class ReducePropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly long[]? _axes;
    private readonly bool _noopWithEmptyAxes;
    private readonly ConcurrentDictionary<string, SparseKernel> _kernels = new(StringComparer.Ordinal);

    public ReducePropagator(Node node, OnnxGraph graph, int axesAsInputFrom)
    {
        _node = node;
        _axes = node.Opset < axesAsInputFrom ? node.Attributes.GetInts("axes")
            : node.Input(1).Length > 0 ? graph.RequireConstant(node.Input(1), node, "axes").AsLongs() : null;
        _noopWithEmptyAxes = node.Attributes.GetInt("noop_with_empty_axes", 0) != 0;
        if ((_axes is null or { Length: 0 } && !_noopWithEmptyAxes) || (_axes?.Contains(0) ?? false))
        {
            // Refused at load where the axes already show it; negative axes are checked against the rank at run time.
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "it reduces the batch axis (axis 0, or all axes when none are given), which would mix images");
        }
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue x = alg.Activation(_node.Input(0));
        SparseKernel kernel = _kernels.GetOrAdd(x.ShapeText, _ => Geometry(x.RowShape));
        RelValue r = alg.Reshape(outputRelevance[0]!, kernel.OutputShape);
        RelValue result = plan.Mode == PropagationMode.Gradient
            ? alg.Adjoint(kernel, r, null)
            : LinearRuleEngine.Propagate(alg, plan.Norm, kernel, LinearLayer.ParameterFree, x, RuleInputs.None, r);
        return _node.Inputs.Count > 1 ? [result, null] : [result];
    }

    /// <summary>The reduction of one image as taps: output j sums (or averages) the input elements mapped to it.</summary>
    private SparseKernel Geometry(int[] row)
    {
        int rank = row.Length + 1;
        int[] axes = _axes is { Length: > 0 } ? _axes.Select(a => RouteGeometry.NormalizeAxis(_node, a, rank)).Distinct().ToArray()
            : _noopWithEmptyAxes ? [] : Enumerable.Range(0, rank).ToArray();
        if (axes.Contains(0))
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"it reduces the batch axis of {Tensor.FormatShape([0, .. row])}, which would mix images");
        }

        int[] kept = row.Select((d, a) => axes.Contains(a + 1) ? 1 : d).ToArray();
        int count = axes.Aggregate(1, (c, a) => c * row[a - 1]);
        float weight = _node.OpType == "ReduceMean" ? 1f / count : 1f;
        int[] map = Broadcasting.IndexMap(kept, row);
        int outputs = Tensor.CheckedCount(kept);
        var index = new int[outputs * count];
        var filled = new int[outputs];
        for (int i = 0; i < map.Length; i++)
        {
            int j = map[i];
            index[(j * count) + filled[j]++] = i;
        }

        return new SparseKernel(row, kept, 1, count, index, weight == 1f ? null : Enumerable.Repeat(weight, index.Length).ToArray());
    }
}
