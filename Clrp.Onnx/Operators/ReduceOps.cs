using System.Collections.Concurrent;
using Clrp.Onnx.Graph;
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
/// <c>z_j = Σ_{i→j} w·x_i</c> with w = 1/count (mean) or 1 (sum). Relevance ("Norm", like average pooling, stabiliser 1e-6):
/// <c>R_i = w·x_i / stab(z_j) · R_j</c>; gradient <c>g_i = w·g_j</c>. keepdims changes only the output shape, not the order.
/// </summary>
internal sealed class ReducePropagator : IOperatorPropagator
{
    private const float NormStabilizer = 1e-6f;
    private readonly Node _node;
    private readonly long[]? _axes;
    private readonly bool _noopWithEmptyAxes;
    private readonly ConcurrentDictionary<string, (int[] Map, int OutLength, float Weight)> _maps = new(StringComparer.Ordinal);

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

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        Tensor x = context.Activation(_node.Input(0));
        (int[] map, int outLength, float weight) = _maps.GetOrAdd(Tensor.FormatShape(x.Shape), _ => Geometry(x.Shape));
        Tensor r = outputRelevance[0]!;
        int rows = context.Rows, length = x.RowLength;
        if (r.Length != rows * outLength)
        {
            throw new InvalidOperationException($"{_node}: relevance has {r.Length} elements, expected {rows * outLength}.");
        }

        var result = context.NewTensor([rows, .. x.Shape[1..]]);
        var z = new float[outLength];
        for (int row = 0; row < rows; row++)
        {
            ReadOnlySpan<float> xs = x.Data.AsSpan(context.RowImage[row] * length, length);
            ReadOnlySpan<float> rs = r.Data.AsSpan(row * outLength, outLength);
            Span<float> dest = result.Data.AsSpan(row * length, length);
            if (context.Mode == PropagationMode.Gradient)
            {
                for (int i = 0; i < length; i++)
                {
                    dest[i] = weight * rs[map[i]];
                }

                continue;
            }

            Array.Clear(z);
            for (int i = 0; i < length; i++)
            {
                z[map[i]] += weight * xs[i];
            }

            for (int i = 0; i < length; i++)
            {
                dest[i] = weight * xs[i] * rs[map[i]] / LinearRuleEngine.Stabilize(z[map[i]], NormStabilizer);
            }
        }

        return _node.Inputs.Count > 1 ? [result, null] : [result];
    }

    /// <summary>For each input element of one image, the output element it is reduced into; and the weight w.</summary>
    private (int[] Map, int OutLength, float Weight) Geometry(int[] shape)
    {
        int rank = shape.Length;
        int[] axes = _axes is { Length: > 0 } ? _axes.Select(a => RouteGeometry.NormalizeAxis(_node, a, rank)).Distinct().ToArray()
            : _noopWithEmptyAxes ? [] : Enumerable.Range(0, rank).ToArray();
        if (axes.Contains(0))
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"it reduces the batch axis of {Tensor.FormatShape(shape)}, which would mix images");
        }

        int[] inRow = shape[1..];
        int[] kept = inRow.Select((d, a) => axes.Contains(a + 1) ? 1 : d).ToArray();
        int count = axes.Aggregate(1, (c, a) => c * shape[a]);
        float weight = _node.OpType == "ReduceMean" ? 1f / count : 1f;
        return (Broadcasting.IndexMap(kept, inRow), Tensor.CheckedCount(kept), weight);
    }
}
