using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Evaluates every node whose inputs are all constants (<see cref="ConstantEvaluator"/>: Cast, ConstantOfShape,
/// Unsqueeze/Squeeze/Concat/Gather/Reshape/Slice/Transpose/Expand, Shape of a constant, arithmetic) and replaces it by
/// its value, repeatedly in topological order, so chains fold to one constant: torch's Pad pads
/// (ConstantOfShape → Concat → Reshape → Slice → Transpose → Reshape → Cast), float16 weights behind a Cast, scales
/// behind Unsqueeze. Constant nodes whose value is known are dropped too. What remains computed from Shape/Size of an
/// activation is a shape path: the walk gives it no relevance. Pure: returns a new graph; the runtime still runs the
/// original model, so forward values are unchanged.
/// </summary>
public static class FoldConstants
{
    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var known = new Dictionary<string, ConstantTensor>(graph.Constants, StringComparer.Ordinal);
        var folded = new Dictionary<string, ConstantTensor>(StringComparer.Ordinal);
        var kept = new List<Node>(graph.Nodes.Count);
        foreach (Node node in graph.Nodes)
        {
            if (node.Outputs.Any(outputs.Contains) || !TryFold(node, known, graph.Source, out ConstantTensor? value))
            {
                kept.Add(node);
                continue;
            }

            if (value is not null)
            {
                known[node.Outputs[0]] = value;
                folded[node.Outputs[0]] = value;
            }
        }

        return kept.Count == graph.Nodes.Count ? graph : graph.WithNodes(kept, folded);
    }

    /// <summary>True when the node can go: a Constant whose value the reader decoded (value null), or an op evaluated to <paramref name="value"/>.</summary>
    private static bool TryFold(Node node, Dictionary<string, ConstantTensor> known, string source, out ConstantTensor? value)
    {
        value = null;
        if (node.Domain.Length != 0)
        {
            return false;
        }

        if (node.OpType == "Constant")
        {
            return node.Outputs.Count == 1 && known.ContainsKey(node.Outputs[0]);
        }

        if (!ConstantEvaluator.Supported.Contains(node.OpType) || node.Inputs.Any(i => i.Length > 0 && !known.ContainsKey(i)))
        {
            return false;
        }

        var inputs = node.Inputs.Select(i => i.Length > 0 ? known[i] : null).ToList();
        value = ConstantEvaluator.Evaluate(node, inputs, source);
        return value is not null;
    }
}
