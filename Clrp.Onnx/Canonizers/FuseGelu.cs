using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using Google.Protobuf;
using static Clrp.Onnx.Canonizers.PatternMatching;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Fuses the GELU that exporters write before opset 20 into one <c>Gelu</c> node for the walk, so relevance passes through it
/// as through every activation (a Mul of x by a function of x would otherwise be a gate), and the gradient is GELU′:
/// <list type="bullet">
/// <item>Erf form (torch.onnx, TF): <c>x·(1 + Erf(x/√2))·½</c>, the /√2 as Div or as Mul by 1/√2, the three factors in any order;</item>
/// <item>tanh form (approximate="tanh", BERT/GPT code): <c>½·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³)))</c>, x³ as Mul(x, Mul(x, x)) or Pow(x, 3).</item>
/// </list>
/// The fused node keeps the last Mul's name and output, and reads x; the runtime still executes the file's nodes (the walk
/// reads x and the output from the capture run). Inner values read anywhere else leave the pattern as it is.
/// </summary>
internal static class FuseGelu
{
    private const long GeluOpset = 20;

    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var fused = new Dictionary<string, Node>(StringComparer.Ordinal);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (Node core in graph.Nodes.Where(n => n.Domain.Length == 0 && n.OpType is "Erf" or "Tanh"))
        {
            var nodes = new List<Node> { core };
            string? x = core.OpType == "Erf" ? ErfArgument(graph, core.Input(0), nodes) : TanhArgument(graph, core.Input(0), nodes);
            Node? plusOne = SoleConsumer(graph, core.Outputs[0], "Add");
            if (x is null || plusOne is null || plusOne.Inputs.Count != 2 || !IsScalar(graph, plusOne.Inputs.FirstOrDefault(i => i != core.Outputs[0]) ?? string.Empty, 1.0))
            {
                continue;
            }

            nodes.Add(plusOne);
            if (FindProduct(graph, x, plusOne.Outputs[0], nodes) is not Node top || nodes.Any(n => removed.Contains(n.Name)) || !IsSelfContained(graph, nodes, top.Outputs[0]))
            {
                continue;
            }

            var attributes = core.OpType == "Tanh"
                ? new NodeAttributes([new AttributeProto { Name = "approximate", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("tanh") }])
                : new NodeAttributes([]);
            fused[top.Name] = new Node(top.Name, "Gelu", string.Empty, GeluOpset, [x], [top.Outputs[0]], attributes);
            removed.UnionWith(nodes.Select(n => n.Name));
        }

        return Replace(graph, fused, removed);
    }

    /// <summary>x where <paramref name="value"/> = x/√2 (Div) or x·(1/√2) (Mul).</summary>
    private static string? ErfArgument(OnnxGraph graph, string value, List<Node> nodes)
    {
        Node? scale = ProducerOf(graph, value, "Div", "Mul");
        if (scale is null || scale.Inputs.Count != 2)
        {
            return null;
        }

        double factor = scale.OpType == "Div" ? Math.Sqrt(2) : 1 / Math.Sqrt(2);
        string? x = IsScalar(graph, scale.Input(1), factor) ? scale.Input(0)
            : scale.OpType == "Mul" && IsScalar(graph, scale.Input(0), factor) ? scale.Input(1) : null;
        if (x is not null)
        {
            nodes.Add(scale);
        }

        return x;
    }

    /// <summary>x where <paramref name="value"/> = √(2/π)·(x + 0.044715·x³).</summary>
    private static string? TanhArgument(OnnxGraph graph, string value, List<Node> nodes)
    {
        var inner = new List<Node>();
        (List<string> outer, double beta) = ProductFactors(graph, value, string.Empty, inner);
        if (outer.Count != 1 || Math.Abs(beta - Math.Sqrt(2 / Math.PI)) > 1e-4 || ProducerOf(graph, outer[0], "Add") is not Node sum || graph.Consumers(outer[0]).Count != 1)
        {
            return null;
        }

        foreach ((string x, string cubic) in new[] { (sum.Input(0), sum.Input(1)), (sum.Input(1), sum.Input(0)) })
        {
            var cubeNodes = new List<Node>();
            (List<string> factors, double kappa) = ProductFactors(graph, cubic, x, cubeNodes);
            if (Math.Abs(kappa - 0.044715) > 1e-6 || graph.Consumers(cubic).Count != 1)
            {
                continue;
            }

            bool cube = factors.Count == 3 && factors.All(f => f == x);
            if (!cube && factors.Count == 1 && ProducerOf(graph, factors[0], "Pow") is Node pow && pow.Input(0) == x && IsScalar(graph, pow.Input(1), 3) && graph.Consumers(factors[0]).Count == 1)
            {
                cubeNodes.Add(pow);
                cube = true;
            }

            if (cube)
            {
                nodes.AddRange(inner);
                nodes.Add(sum);
                nodes.AddRange(cubeNodes);
                return x;
            }
        }

        return null;
    }

    /// <summary>The last Mul of the product x·a·½ (any order, one or two Muls above a), adding its Muls to <paramref name="nodes"/>.</summary>
    private static Node? FindProduct(OnnxGraph graph, string x, string a, List<Node> nodes)
    {
        Node? candidate = SoleConsumer(graph, a, "Mul");
        for (int level = 0; level < 3 && candidate is not null; level++)
        {
            var muls = new List<Node>();
            (List<string> factors, double half) = ProductFactors(graph, candidate.Outputs[0], x, muls);
            if (factors.Count == 2 && factors.Contains(x) && factors.Contains(a) && Math.Abs(half - 0.5) < 1e-6)
            {
                nodes.AddRange(muls);
                return candidate;
            }

            candidate = SoleConsumer(graph, candidate.Outputs[0], "Mul");
        }

        return null;
    }
}
