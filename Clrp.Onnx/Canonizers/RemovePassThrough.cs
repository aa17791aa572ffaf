using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Drops Identity and (inference-mode) Dropout nodes by rewiring their consumers to their input.
/// Pure: returns a new graph. Nodes whose output is a graph output, or whose Dropout mask is read, stay.
/// </summary>
public static class RemovePassThrough
{
    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var rename = new Dictionary<string, string>(StringComparer.Ordinal);
        var kept = new List<Node>();
        foreach (Node node in graph.Nodes)
        {
            bool passThrough = node.Domain.Length == 0 && (node.OpType == "Identity" || node.OpType == "Dropout");
            bool maskUsed = node.Outputs.Count > 1 && node.Outputs[1].Length > 0 && (graph.Consumers(node.Outputs[1]).Count > 0 || outputs.Contains(node.Outputs[1]));
            if (passThrough && !maskUsed && !outputs.Contains(node.Outputs[0]) && node.Input(0).Length > 0)
            {
                rename[node.Outputs[0]] = Resolve(rename, node.Input(0));
                continue;
            }

            kept.Add(node);
        }

        if (rename.Count == 0)
        {
            return graph;
        }

        var rewired = kept.Select(n => n.Inputs.Any(rename.ContainsKey)
            ? n.With(inputs: n.Inputs.Select(i => rename.TryGetValue(i, out string? r) ? r : i).ToArray())
            : n).ToList();
        return graph.WithNodes(rewired);
    }

    private static string Resolve(Dictionary<string, string> rename, string value) =>
        rename.TryGetValue(value, out string? target) ? target : value;
}
