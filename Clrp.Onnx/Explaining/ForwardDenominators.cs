using System.Runtime.InteropServices;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Rules;
using Google.Protobuf;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// The denominators of the convolution rules, computed by ONNX Runtime in the capture run instead of by one kernel
/// session per layer during the walk. For every Conv on the walk and every part P of its rule whose inputs are graph
/// values (a, a⁺, a⁻ — not z^B's box bounds or the flat rule's ones):
/// <code>
///   z_P = Σ_{t∈P} Conv(m_t(a), W_t) (+ b)     added to the runtime graph as extra nodes and captured
/// </code>
/// with a⁺ = Relu(a) and a⁻ = −Relu(−a), written as Conv(Relu(−a), −W_t). Inputs that are non-negative by
/// construction (after Relu, pools of it, …) use a itself for a⁺ and drop the a⁻ terms. A part that is exactly the
/// layer (ε and LRP-0: Wa + b) reads the Conv's own output, so it costs nothing. The runtime graph computes the same
/// sums as the rule engine's kernels, in another order (equal to rounding; tested at 1e-5).
/// </summary>
internal sealed class ForwardDenominators
{
    private ForwardDenominators(Dictionary<string, string?[]> byNode, List<NodeProto> nodes, List<TensorProto> initializers)
    {
        ValuesByNode = byNode;
        Nodes = nodes;
        Initializers = initializers;
    }

    /// <summary>For each Conv node, per rule part, the captured value that holds z_P, or null where the walk computes it.</summary>
    public IReadOnlyDictionary<string, string?[]> ValuesByNode { get; }

    /// <summary>The values to capture.</summary>
    public IEnumerable<string> Values => ValuesByNode.Values.SelectMany(v => v).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>Nodes to add to the runtime graph.</summary>
    public IReadOnlyList<NodeProto> Nodes { get; }

    /// <summary>Initializers (transformed weights) to add to the runtime graph.</summary>
    public IReadOnlyList<TensorProto> Initializers { get; }

    /// <summary>None: every denominator is computed by the walk (gradient methods, or precomputation switched off).</summary>
    public static ForwardDenominators None { get; } = new([], [], []);

    /// <summary>Plans the denominators of <paramref name="plan"/>'s convolutions under its rules.</summary>
    public static ForwardDenominators Build(ExplanationPlan plan)
    {
        var byNode = new Dictionary<string, string?[]>(StringComparer.Ordinal);
        var nodes = new List<NodeProto>();
        var initializers = new List<TensorProto>();
        var derived = new HashSet<string>(StringComparer.Ordinal); // Relu/Neg values already added
        // Outputs that the runtime graph computes with exactly the walk's weights: a Conv left as it is by the canonizers
        // (a BatchNorm folded into the walk's weights is computed unfolded by ORT, which differs in rounding).
        var runtimeConvs = plan.Graph.Model.Graph.Node.Where(n => n.OpType == "Conv" && n.Output.Count > 0)
            .ToDictionary(n => n.Output[0], n => n, StringComparer.Ordinal);
        foreach (Node node in plan.WalkNodes)
        {
            if (node.OpType != "Conv" || plan.Propagators.GetValueOrDefault(node.Name) is not ConvPropagator conv
                || !plan.Rules.TryGetValue(node.Name, out LinearRule? rule))
            {
                continue;
            }

            string a = node.Input(0);
            bool nonNegative = IsNonNegative(plan.Graph, a, depth: 0);
            var values = new string?[rule.Parts.Count];
            for (int p = 0; p < rule.Parts.Count; p++)
            {
                RulePart part = rule.Parts[p];
                if (part.Terms.Any(t => t.Input is not (InputModifier.Identity or InputModifier.Positive or InputModifier.Negative)))
                {
                    continue; // z^B and flat terms depend on bounds or ones: the walk computes them
                }

                if (part.Terms is [{ Input: InputModifier.Identity } only] && ReferenceEquals(only.Weight, WeightTransform.Identity) && (part.IncludeBias || conv.Layer.Bias is null)
                    && runtimeConvs.TryGetValue(node.Outputs[0], out NodeProto? same) && same.Input.SequenceEqual(node.Inputs))
                {
                    values[p] = node.Outputs[0]; // the layer itself: ORT computes it anyway
                    continue;
                }

                var sums = new List<string>();
                foreach (RuleTerm term in part.Terms)
                {
                    if (term.Input == InputModifier.Negative && nonNegative)
                    {
                        continue; // a⁻ = 0
                    }

                    bool negate = term.Input == InputModifier.Negative;
                    string input = term.Input switch
                    {
                        InputModifier.Identity => a,
                        InputModifier.Positive when nonNegative => a,
                        InputModifier.Positive => Derive(a, "relu", nodes, derived, ("Relu", [a])),
                        _ => Derive(a, "relu_neg", nodes, derived, ("Relu", [Derive(a, "neg", nodes, derived, ("Neg", [a]))])),
                    };
                    LinearWeights w = conv.Layer.Transformed(term.Weight);
                    string prefix = $"clrp::z::{node.Name}::{p}::{sums.Count}";
                    string weightName = prefix + "::W";
                    initializers.Add(FloatTensor(weightName, conv.WeightShape, w.Values, negate));
                    var convNode = new NodeProto { OpType = "Conv", Name = prefix, Output = { prefix } };
                    convNode.Input.Add(input);
                    convNode.Input.Add(weightName);
                    if (sums.Count == 0 && part.IncludeBias && conv.Layer.Bias is { } bias)
                    {
                        initializers.Add(FloatTensor(prefix + "::B", [bias.Length], bias, negate: false));
                        convNode.Input.Add(prefix + "::B");
                    }

                    foreach (string attribute in new[] { "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides" })
                    {
                        if (node.Attributes.Raw(attribute) is { } raw)
                        {
                            convNode.Attribute.Add(raw.Clone());
                        }
                    }

                    nodes.Add(convNode);
                    sums.Add(prefix);
                }

                if (sums.Count == 0)
                {
                    continue; // every term vanished; the walk skips the part too
                }

                string total = sums[0];
                for (int i = 1; i < sums.Count; i++)
                {
                    string next = i == sums.Count - 1 ? $"clrp::z::{node.Name}::{p}" : $"{sums[0]}::sum{i}";
                    nodes.Add(new NodeProto { OpType = "Add", Name = next, Input = { total, sums[i] }, Output = { next } });
                    total = next;
                }

                values[p] = total;
            }

            if (values.Any(v => v is not null))
            {
                byNode[node.Name] = values;
            }
        }

        return new ForwardDenominators(byNode, nodes, initializers);
    }

    private static string Derive(string a, string what, List<NodeProto> nodes, HashSet<string> derived, (string Op, string[] Inputs) node)
    {
        string key = $"clrp::{what}::{a}";
        if (derived.Add(key))
        {
            var proto = new NodeProto { OpType = node.Op, Name = key, Output = { key } };
            proto.Input.AddRange(node.Inputs);
            nodes.Add(proto);
        }

        return key;
    }

    private static TensorProto FloatTensor(string name, int[] shape, float[] values, bool negate)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(shape.Select(d => (long)d));
        if (negate)
        {
            float[] negated = new float[values.Length];
            System.Numerics.Tensors.TensorPrimitives.Negate(values, negated);
            values = negated;
        }

        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return t;
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
}
