using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Ops whose every output element is a copy of one input element or a constant: Transpose, Slice, Pad (constant,
/// reflect, edge, wrap), Expand. Relevance and gradient are the same scatter (DESIGN §1 "routing"): each output
/// element's relevance goes back to the element it copied, summed over copies; a constant cell's (padding) is dropped.
/// The maps never touch the batch axis; an op that would is refused.
/// </summary>
internal static class RoutingOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("Transpose", 1, 22, (n, _) => new IndexRoutePropagator(n, RouteGeometry.Transpose(n)));
        // Slice-1 takes starts/ends/axes as attributes; Slice-10+ as inputs (with steps).
        registry.Register("Slice", 1, 22, (n, g) => new IndexRoutePropagator(n, RouteGeometry.Slice(n, g)));
        // Pad-2..10: pads/mode/value attributes; Pad-11+: pads (and constant_value, axes from 18) inputs; wrap from 19.
        registry.Register("Pad", 2, 22, (n, g) => new IndexRoutePropagator(n, RouteGeometry.Pad(n, g)));
        registry.Register("Tile", 6, 22, (n, g) => new IndexRoutePropagator(n, RouteGeometry.Tile(n, g)));
        registry.Register("DepthToSpace", 1, 22, (n, _) => new IndexRoutePropagator(n, RouteGeometry.DepthToSpace(n)));
        registry.Register("SpaceToDepth", 1, 22, (n, _) => new IndexRoutePropagator(n, RouteGeometry.SpaceToDepth(n)));
        registry.Register("Expand", 8, 22, (n, g) =>
        {
            ConstantTensor? shape = g.Constants.GetValueOrDefault(n.Input(1));
            return new IndexRoutePropagator(n, RouteGeometry.Expand(n, shape?.AsLongs()), needsOutput: shape is null);
        });
    }
}

/// <summary>
/// Where each output element of a routing op comes from, per relevance row: <see cref="Map"/>[j] is the flat index
/// (within one image) of the input element output j copies, or −1 for a constant cell.
/// </summary>
internal sealed record Route(int[] Map, int[] OutRowShape);

/// <summary>Builds a <see cref="Route"/> from the full input shape ([N, …]) and, when captured, the full output shape.</summary>
internal delegate Route RouteBuilder(int[] inputShape, int[]? outputShape);

/// <summary>
/// <c>R_x[map[j]] += R_y[j]</c> for every output element j with <c>map[j] ≥ 0</c>: the adjoint of the route's
/// <see cref="SparseKernel"/>, identical in relevance and gradient mode (a copy's derivative is 1). Routes are built once
/// per input shape and cached; their geometry is computed for one image (the batch axis is never routed).
/// </summary>
internal sealed class IndexRoutePropagator(Node node, RouteBuilder builder, bool needsOutput = false) : IOperatorPropagator
{
    private readonly ConcurrentDictionary<string, SparseKernel> _routes = new(StringComparer.Ordinal);

    public IEnumerable<string> RequiredValues => needsOutput ? [node.Input(0), node.Outputs[0]] : [node.Input(0)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        int[] inRow = alg.Activation(node.Input(0)).RowShape;
        int[]? outRow = needsOutput ? alg.Activation(node.Outputs[0]).RowShape : null;
        string key = Tensor.FormatShape(inRow) + (outRow is null ? string.Empty : Tensor.FormatShape(outRow));
        SparseKernel route = _routes.GetOrAdd(key, _ =>
        {
            Route r = builder([1, .. inRow], outRow is null ? null : [1, .. outRow]);
            return SparseKernel.Route(inRow, r.OutRowShape, r.Map);
        });
        var result = new RelValue?[node.Inputs.Count];
        result[0] = alg.Adjoint(route, alg.Reshape(outputRelevance[0]!, route.OutputShape), null);
        return result;
    }
}
