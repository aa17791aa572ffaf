using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using static Clrp.Onnx.Canonizers.PatternMatching;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Fuses the division of an activation by its own L2 norm (F.normalize, tf.math.l2_normalize, cosine heads) into one
/// <see cref="L2NormalizeOp"/> node for the walk: <c>y = x / d</c> with d computed from x alone by
/// <list type="bullet">
/// <item>the norm: <c>ReduceL2(x)</c>, or <c>Sqrt(s)</c> with <c>s = ReduceSumSquare(x)</c>, <c>ReduceSum(x·x)</c> or <c>ReduceSum(Pow(x, 2))</c>,
/// optionally <c>s + ε</c> inside the root (keepdims = 1, axes constant and not the batch axis);</item>
/// <item>then any chain of <c>Add</c> of a constant, <c>Max</c> with a constant and <c>Clip</c> with a constant min (no max), and
/// an <c>Expand</c> to x's shape (once shape arithmetic is folded).</item>
/// </list>
/// The fused node keeps the Div's name and output and reads x; see <see cref="Operators.L2NormalizePropagator"/> for the rule.
/// </summary>
internal static class FuseL2Normalize
{
    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var fused = new Dictionary<string, Node>(StringComparer.Ordinal);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (Node div in graph.Nodes.Where(n => n.Domain.Length == 0 && n.OpType == "Div"))
        {
            string x = div.Input(0);
            var nodes = new List<Node> { div };
            var kinds = new List<long>();
            var values = new List<float>();
            string value = div.Input(1);
            Node? step;
            while ((step = ProducerOf(graph, value, "Expand", "Add", "Max", "Clip")) is not null && kinds.Count < 4)
            {
                if (step.OpType == "Expand")
                {
                    if (!graph.IsConstant(step.Input(1)))
                    {
                        break;
                    }
                }
                else if (Modifier(graph, step) is (long kind, float constant, string operand))
                {
                    kinds.Insert(0, kind);
                    values.Insert(0, constant);
                    nodes.Add(step);
                    value = operand;
                    continue;
                }
                else
                {
                    break;
                }

                nodes.Add(step);
                value = step.Input(0);
            }

            if (Norm(graph, value, x, nodes) is not (long[] axes, float innerEpsilon) || nodes.Any(n => removed.Contains(n.Name)) || !IsSelfContained(graph, nodes, div.Outputs[0]))
            {
                continue;
            }

            var attributes = new NodeAttributes([
                new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { axes } },
                new AttributeProto { Name = "inner_epsilon", Type = AttributeProto.Types.AttributeType.Float, F = innerEpsilon },
                new AttributeProto { Name = "step_kinds", Type = AttributeProto.Types.AttributeType.Ints, Ints = { kinds } },
                new AttributeProto { Name = "step_values", Type = AttributeProto.Types.AttributeType.Floats, Floats = { values } },
            ]);
            fused[div.Name] = new Node(div.Name, L2NormalizeOp.OpType, L2NormalizeOp.Domain, 1, [x], [div.Outputs[0]], attributes);
            removed.UnionWith(nodes.Select(n => n.Name));
        }

        return Replace(graph, fused, removed);
    }

    /// <summary>Add/Max of a scalar constant, Clip with a constant min and no max: (kind, constant, the other operand).</summary>
    private static (long Kind, float Constant, string Operand)? Modifier(OnnxGraph graph, Node step)
    {
        if (step.OpType == "Clip")
        {
            bool attributes = step.Opset < 11;
            float? min = attributes ? (step.Attributes.Has("min") ? step.Attributes.GetFloat("min", 0f) : null) : Scalar(graph, step.Input(1));
            bool noMax = attributes ? !step.Attributes.Has("max") : step.Input(2).Length == 0;
            return min is float m && noMax ? (L2NormalizeOp.Floor, m, step.Input(0)) : null;
        }

        if (step.Inputs.Count != 2)
        {
            return null;
        }

        long kind = step.OpType == "Add" ? L2NormalizeOp.AddConstant : L2NormalizeOp.Floor;
        return Scalar(graph, step.Input(1)) is float c1 ? (kind, c1, step.Input(0)) : Scalar(graph, step.Input(0)) is float c0 ? (kind, c0, step.Input(1)) : null;
    }

    /// <summary>The norm of x over constant axes (keepdims = 1): its axes and ε added inside the root.</summary>
    private static (long[] Axes, float InnerEpsilon)? Norm(OnnxGraph graph, string value, string x, List<Node> nodes)
    {
        if (ProducerOf(graph, value, "ReduceL2") is Node l2)
        {
            nodes.Add(l2);
            return l2.Input(0) == x && KeptAxes(graph, l2) is long[] a ? (a, 0f) : null;
        }

        if (ProducerOf(graph, value, "Sqrt") is not Node sqrt)
        {
            return null;
        }

        nodes.Add(sqrt);
        string sum = sqrt.Input(0);
        float inner = 0f;
        if (ProducerOf(graph, sum, "Add") is Node add && (Scalar(graph, add.Input(1)) ?? Scalar(graph, add.Input(0))) is float e)
        {
            nodes.Add(add);
            inner = e;
            sum = Scalar(graph, add.Input(1)) is null ? add.Input(1) : add.Input(0);
        }

        if (ProducerOf(graph, sum, "ReduceSumSquare") is Node square && square.Input(0) == x)
        {
            nodes.Add(square);
            return KeptAxes(graph, square) is long[] a ? (a, inner) : null;
        }

        if (ProducerOf(graph, sum, "ReduceSum") is not Node reduce || ProducerOf(graph, reduce.Input(0), "Mul", "Pow") is not Node sq)
        {
            return null;
        }

        bool squares = sq.OpType == "Mul" ? sq.Input(0) == x && sq.Input(1) == x : sq.Input(0) == x && IsScalar(graph, sq.Input(1), 2);
        nodes.Add(reduce);
        nodes.Add(sq);
        return squares && KeptAxes(graph, reduce) is long[] axes ? (axes, inner) : null;
    }

    /// <summary>The constant, non-empty axes of a keepdims = 1 reduction (attribute, or input 1 from ReduceSum-13 / opset 18).</summary>
    private static long[]? KeptAxes(OnnxGraph graph, Node reduce)
    {
        if (reduce.Attributes.GetInt("keepdims", 1) != 1)
        {
            return null;
        }

        long[]? axes = reduce.Attributes.GetInts("axes") ?? (reduce.Input(1).Length > 0 && graph.Constants.TryGetValue(reduce.Input(1), out ConstantTensor? c) ? c.AsLongs() : null);
        return axes is { Length: > 0 } && !axes.Contains(0) ? axes : null;
    }
}

/// <summary>The node <see cref="FuseL2Normalize"/> writes (a ClrpMl-internal op: it exists only in the canonized graph the walk follows).</summary>
internal static class L2NormalizeOp
{
    public const string Domain = "ai.clrp.fused";
    public const string OpType = "L2Normalize";

    /// <summary>Step kinds applied to the root q in order: <c>d ← d + c</c> and <c>d ← max(d, c)</c>.</summary>
    public const long AddConstant = 0;
    public const long Floor = 1;
}
