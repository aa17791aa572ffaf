using System.Collections.Concurrent;
using Clrp.Onnx.Graph;
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
/// <c>R_x[map[j]] += R_y[j]</c> for every output element j with <c>map[j] ≥ 0</c>; identical in relevance and gradient
/// mode (a copy's derivative is 1). Routes are built once per input shape and cached.
/// </summary>
internal sealed class IndexRoutePropagator(Node node, RouteBuilder builder, bool needsOutput = false) : IOperatorPropagator
{
    private readonly ConcurrentDictionary<string, Route> _routes = new(StringComparer.Ordinal);

    public IEnumerable<string> RequiredValues => needsOutput ? [node.Input(0), node.Outputs[0]] : [node.Input(0)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        int[] inShape = context.Activation(node.Input(0)).Shape;
        int[]? outShape = needsOutput ? context.Activation(node.Outputs[0]).Shape : null;
        string key = Tensor.FormatShape(inShape) + (outShape is null ? string.Empty : Tensor.FormatShape(outShape));
        Route route = _routes.GetOrAdd(key, _ => builder(inShape, outShape));
        var result = new Tensor?[node.Inputs.Count];
        result[0] = Scatter(outputRelevance[0]!, route.Map, context.Rows, inShape[1..], node);
        return result;
    }

    /// <summary><c>result[r, map[j]] += values[r, j]</c>, [rows, …inRowShape].</summary>
    internal static Tensor Scatter(Tensor values, int[] map, int rows, int[] inRowShape, Node node)
    {
        int outLength = map.Length;
        if (values.Length != rows * outLength)
        {
            throw new InvalidOperationException($"{node}: relevance has {values.Length} elements, expected {rows * outLength}.");
        }

        var result = new Tensor([rows, .. inRowShape]);
        int inLength = result.RowLength;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> source = values.Data.AsSpan(r * outLength, outLength);
            Span<float> dest = result.Data.AsSpan(r * inLength, inLength);
            for (int j = 0; j < outLength; j++)
            {
                if (map[j] >= 0)
                {
                    dest[map[j]] += source[j];
                }
            }
        }

        return result;
    }
}
