using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Reshaping ops (Flatten, Reshape, Squeeze, Unsqueeze): elements keep their order, so relevance goes
/// back element for element, reshaped to the input's shape. Their shape/axes inputs get none.
/// </summary>
internal static class ShapeOps
{
    public static void Register(OperatorRegistry registry)
    {
        foreach (string op in new[] { "Flatten", "Reshape", "Squeeze", "Unsqueeze" })
        {
            registry.Register(op, 1, 22, (n, g) => new ReshapePropagator(n, g));
        }
    }
}

/// <summary><c>R_in = reshape(R_out, shape(x))</c>, identical in relevance and gradient mode.</summary>
internal sealed class ReshapePropagator : IOperatorPropagator
{
    private readonly Node _node;

    public ReshapePropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        if (node.OpType == "Flatten" && node.Attributes.GetInt("axis", 1) != 1)
        {
            // axis 0 would merge the batch axis into one row: images would no longer be separable.
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"Flatten with axis {node.Attributes.GetInt("axis", 1)}; only axis 1 keeps the batch axis");
        }

        _ = graph;
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        var result = new RelValue?[_node.Inputs.Count];
        result[0] = outputRelevance[0] is { } r ? alg.Reshape(r, alg.Activation(_node.Input(0)).RowShape) : null;
        return result;
    }
}
