using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Helpers for canonizers that recognise exporters' decompositions (GELU, LayerNorm, L2 normalisation) and fuse them into
/// one node. A fused subgraph may only hide values nothing else reads: every inner value must have its consumers inside the
/// pattern and must not be a graph output.
/// </summary>
internal static class PatternMatching
{
    /// <summary>The scalar constant <paramref name="value"/> (any shape with one element), or null.</summary>
    public static float? Scalar(OnnxGraph graph, string value) =>
        graph.Constants.TryGetValue(value, out ConstantTensor? c) && c.Length == 1 ? c.AsFloats()[0] : null;

    /// <summary>True when <paramref name="value"/> is a scalar constant within 1e-4 (relative) of <paramref name="expected"/>.</summary>
    public static bool IsScalar(OnnxGraph graph, string value, double expected) =>
        Scalar(graph, value) is float v && Math.Abs(v - expected) <= 1e-4 * Math.Max(1, Math.Abs(expected));

    /// <summary>The single default-domain node of type <paramref name="opType"/> that reads <paramref name="value"/>, or null.</summary>
    public static Node? SoleConsumer(OnnxGraph graph, string value, params string[] opType)
    {
        IReadOnlyList<Node> consumers = graph.Consumers(value);
        return consumers.Count == 1 && consumers[0].Domain.Length == 0 && opType.Contains(consumers[0].OpType) ? consumers[0] : null;
    }

    /// <summary>The default-domain node of type <paramref name="opType"/> that computes <paramref name="value"/>, or null.</summary>
    public static Node? ProducerOf(OnnxGraph graph, string value, params string[] opType) =>
        graph.Producer(value) is Node n && n.Domain.Length == 0 && opType.Contains(n.OpType) ? n : null;

    /// <summary>
    /// The factors of the product tree rooted at <paramref name="value"/>: Mul nodes are opened (and listed in
    /// <paramref name="nodes"/>) while their output is read by that product alone; <paramref name="stop"/> is never opened
    /// (it is the pattern's input, which may itself be a Mul). The constant factors are multiplied into the returned scale.
    /// </summary>
    public static (List<string> Factors, double Scale) ProductFactors(OnnxGraph graph, string value, string stop, List<Node> nodes, bool isRoot = true)
    {
        var factors = new List<string>();
        double scale = 1;
        Node? mul = ProducerOf(graph, value, "Mul");
        if (value == stop || mul is null || (!isRoot && graph.Consumers(value).Count != 1))
        {
            if (Scalar(graph, value) is float c)
            {
                scale = c;
            }
            else
            {
                factors.Add(value);
            }

            return (factors, scale);
        }

        nodes.Add(mul);
        foreach (string input in mul.Inputs)
        {
            (List<string> f, double s) = ProductFactors(graph, input, stop, nodes, isRoot: false);
            factors.AddRange(f);
            scale *= s;
        }

        return (factors, scale);
    }

    /// <summary>True when no value computed by <paramref name="nodes"/>, except <paramref name="keptOutput"/>, is read outside them or is a graph output.</summary>
    public static bool IsSelfContained(OnnxGraph graph, IReadOnlyCollection<Node> nodes, string keptOutput)
    {
        var names = new HashSet<string>(nodes.Select(n => n.Name), StringComparer.Ordinal);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        return nodes.SelectMany(n => n.Outputs).Where(v => v.Length > 0 && v != keptOutput)
            .All(v => !outputs.Contains(v) && graph.Consumers(v).All(c => names.Contains(c.Name)));
    }

    /// <summary>Replaces each group of nodes (keyed by the name of its last node) by its fused node, dropping the rest.</summary>
    public static OnnxGraph Replace(OnnxGraph graph, IReadOnlyDictionary<string, Node> fused, IReadOnlySet<string> removed)
    {
        if (fused.Count == 0)
        {
            return graph;
        }

        var nodes = graph.Nodes.Where(n => fused.ContainsKey(n.Name) || !removed.Contains(n.Name))
            .Select(n => fused.TryGetValue(n.Name, out Node? f) ? f : n).ToList();
        return graph.WithNodes(nodes);
    }
}
