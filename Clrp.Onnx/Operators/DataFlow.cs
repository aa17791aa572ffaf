using System.Runtime.CompilerServices;
using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Questions propagators ask about where a node's operands come from, answered from the graph at load time:
/// is an operand an activation (computed from the graph input), and which node made it, looking through ops
/// that only move or re-type values.
/// </summary>
internal static class DataFlow
{
    private static readonly ConditionalWeakTable<OnnxGraph, HashSet<string>> Activations = new();

    /// <summary>Ops that only move, reshape or re-type values: a gate stays a gate through them.</summary>
    private static readonly HashSet<string> Transparent = new(StringComparer.Ordinal) { "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Expand", "Identity", "Cast", "Dropout" };

    /// <summary>Unary element-wise ops: an operand reached back through them is an element-wise ancestor.</summary>
    private static readonly HashSet<string> ElementwiseUnary = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Neg", "Abs",
        "Identity", "Cast", "Dropout",
    };

    /// <summary>
    /// True when <paramref name="value"/> depends on a graph input through something other than its shape
    /// (Shape and Size read only the shape, which is fixed by the time the walk runs).
    /// </summary>
    public static bool IsActivation(OnnxGraph graph, string value) =>
        value.Length > 0 && Activations.GetValue(graph, Compute).Contains(value);

    /// <summary>The node that made <paramref name="value"/>, looking back through <see cref="Transparent"/> ops.</summary>
    public static Node? ProducerThroughMoves(OnnxGraph graph, string value)
    {
        for (int step = 0; step < 64 && graph.Producer(value) is Node p; step++)
        {
            if (!Transparent.Contains(p.OpType) || p.Domain.Length != 0)
            {
                return p;
            }

            value = p.Input(0);
        }

        return null;
    }

    /// <summary>
    /// True when <paramref name="ancestor"/> is reached from <paramref name="value"/> walking back through unary
    /// element-wise ops, moves, and Add/Sub/Mul/Div with a non-activation operand (e.g. <c>Clip(x + 3, 0, 6) / 6</c> from x).
    /// </summary>
    public static bool IsElementwiseAncestor(OnnxGraph graph, string ancestor, string value)
    {
        for (int step = 0; step < 64; step++)
        {
            if (value == ancestor)
            {
                return true;
            }

            if (graph.Producer(value) is not Node p || p.Domain.Length != 0)
            {
                return false;
            }

            var dynamicInputs = p.Inputs.Where(i => IsActivation(graph, i)).Distinct(StringComparer.Ordinal).ToList();
            bool elementwise = ElementwiseUnary.Contains(p.OpType) || Transparent.Contains(p.OpType)
                || (p.OpType is "Add" or "Sub" or "Mul" or "Div" && dynamicInputs.Count == 1);
            if (!elementwise || dynamicInputs.Count != 1)
            {
                return false;
            }

            value = dynamicInputs[0];
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is ≥ 0 by construction: the output of Relu (or Clip from ≥ 0, Sigmoid,
    /// Softmax), possibly through pools, reshapes and concatenations of such values.
    /// </summary>
    internal static bool IsNonNegative(OnnxGraph graph, string value, int depth)
    {
        if (depth > 32 || graph.Producer(value) is not Node producer)
        {
            return false;
        }

        switch (producer.OpType)
        {
            case "Relu" or "Sigmoid" or "Softmax" or "Softplus":
                return true;
            case "Clip":
                float min = producer.Inputs.Count > 1 && producer.Input(1).Length > 0
                    ? graph.Constants.TryGetValue(producer.Input(1), out ConstantTensor? c) && c.Length == 1 ? c.AsFloats()[0] : float.NegativeInfinity
                    : producer.Attributes.GetFloat("min", float.NegativeInfinity);
                return min >= 0f;
            case "MaxPool" or "AveragePool" or "GlobalAveragePool" or "GlobalMaxPool" or "Flatten" or "Reshape" or "Identity"
                or "Squeeze" or "Unsqueeze" or "Transpose":
                return IsNonNegative(graph, producer.Input(0), depth + 1);
            case "Concat":
                return producer.Inputs.All(i => IsNonNegative(graph, i, depth + 1));
            default:
                return false;
        }
    }

    private static HashSet<string> Compute(OnnxGraph graph)
    {
        var dynamic = new HashSet<string>(graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        foreach (Node node in graph.Nodes)
        {
            if (node.OpType is "Shape" or "Size")
            {
                continue;
            }

            if (node.Inputs.Any(dynamic.Contains))
            {
                foreach (string o in node.Outputs.Where(o => o.Length > 0))
                {
                    dynamic.Add(o);
                }
            }
        }

        return dynamic;
    }
}
