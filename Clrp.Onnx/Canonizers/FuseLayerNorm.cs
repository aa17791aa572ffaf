using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using static Clrp.Onnx.Canonizers.PatternMatching;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Fuses LayerNorm as exporters write it before opset 17 (torch.onnx's layer_norm) into one <c>LayerNormalization</c> node
/// for the walk, without scale and bias (the following Mul by γ and Add of β stay as they are):
/// <c>d = x − ReduceMean(x); y = d / Sqrt(ReduceMean(d²) + ε)</c>, d² as Pow(d, 2) or Mul(d, d), both ReduceMeans over the
/// same non-batch axes (torch writes the trailing ones as [−k … −1]; axes as attribute or, from opset 18, as input). The fused node keeps the Div's name and
/// output and reads x, so the walk applies the LN-rule (<see cref="Operators.NormalizationOps"/>) and the gradient of the
/// whole normalisation; the runtime still executes the file's nodes. Inner values read elsewhere leave the pattern as it is.
/// </summary>
internal static class FuseLayerNorm
{
    private const long LayerNormOpset = 17;

    /// <summary>
    /// The attribute the fused node carries instead of ONNX's <c>axis</c>: the ReduceMean axes as written, any non-batch axes
    /// (the node exists only in the canonized graph the walk follows).
    /// </summary>
    public const string FusedAxes = "clrp_reduced_axes";

    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var fused = new Dictionary<string, Node>(StringComparer.Ordinal);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (Node div in graph.Nodes.Where(n => n.Domain.Length == 0 && n.OpType == "Div"))
        {
            if (Match(graph, div) is not (string x, long[] axes, float epsilon, List<Node> nodes) || nodes.Any(n => removed.Contains(n.Name)) || !IsSelfContained(graph, nodes, div.Outputs[0]))
            {
                continue;
            }

            var attributes = new NodeAttributes([
                new AttributeProto { Name = FusedAxes, Type = AttributeProto.Types.AttributeType.Ints, Ints = { axes } },
                new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = epsilon },
            ]);
            fused[div.Name] = new Node(div.Name, "LayerNormalization", string.Empty, LayerNormOpset, [x], [div.Outputs[0]], attributes);
            removed.UnionWith(nodes.Select(n => n.Name));
        }

        return Replace(graph, fused, removed);
    }

    private static (string X, long[] Axes, float Epsilon, List<Node> Nodes)? Match(OnnxGraph graph, Node div)
    {
        if (ProducerOf(graph, div.Input(0), "Sub") is not Node sub || ProducerOf(graph, sub.Input(1), "ReduceMean") is not Node mean || mean.Input(0) != sub.Input(0)
            || ProducerOf(graph, div.Input(1), "Sqrt") is not Node sqrt || ProducerOf(graph, sqrt.Input(0), "Add") is not Node add)
        {
            return null;
        }

        string d = sub.Outputs[0];
        (string variance, float? epsilon) = Scalar(graph, add.Input(1)) is float e1 ? (add.Input(0), e1) : (add.Input(1), Scalar(graph, add.Input(0)));
        if (epsilon is null || ProducerOf(graph, variance, "ReduceMean") is not Node varianceMean || ProducerOf(graph, varianceMean.Input(0), "Pow", "Mul") is not Node square)
        {
            return null;
        }

        bool squares = square.OpType == "Pow" ? square.Input(0) == d && IsScalar(graph, square.Input(1), 2) : square.Input(0) == d && square.Input(1) == d;
        long[]? axes = Axes(graph, mean);
        if (!squares || axes is null || Axes(graph, varianceMean) is not long[] varianceAxes || !axes.SequenceEqual(varianceAxes)
            || mean.Attributes.GetInt("keepdims", 1) != 1 || varianceMean.Attributes.GetInt("keepdims", 1) != 1)
        {
            return null;
        }

        // Axes as written (any non-batch axes: trailing negative ones from torch, positive ones from other exporters); the
        // propagator resolves them against the input's rank and refuses the batch axis.
        return axes.Contains(0) ? null : (sub.Input(0), axes, epsilon.Value, [mean, sub, square, varianceMean, add, sqrt, div]);
    }

    /// <summary>ReduceMean's axes, from the attribute (opsets ≤ 17) or a constant second input (18+); null when absent or computed.</summary>
    private static long[]? Axes(OnnxGraph graph, Node reduce)
    {
        if (reduce.Attributes.GetInts("axes") is long[] attribute)
        {
            return attribute.Length == 0 ? null : attribute;
        }

        return reduce.Input(1).Length > 0 && graph.Constants.TryGetValue(reduce.Input(1), out ConstantTensor? c) && c.Length > 0 ? c.AsLongs() : null;
    }
}
