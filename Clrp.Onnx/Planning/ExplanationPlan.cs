using Clrp.Onnx.Canonizers;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Planning;

/// <summary>Status of one node in a <see cref="ExplanationPlan"/>, as <c>clrp info</c> shows it.</summary>
/// <param name="Node">The node (after canonization).</param>
/// <param name="Role">"rule zplus", "pass", "constant (no relevance)", "after the logits", or "unsupported: …".</param>
/// <param name="Supported">False when the node blocks explanations.</param>
public sealed record NodeReport(Node Node, string Role, bool Supported);

/// <summary>
/// Everything decided once per model: the canonized graph, the image input, the logits, the nodes the
/// backward walk visits (descendants of the input that are ancestors of the logits) with their
/// propagators, the first linear layer, the rule of every linear layer, CLRP2's logit layer, and the
/// values the forward run must expose.
/// </summary>
internal sealed class ExplanationPlan : IDisposable
{
    private ExplanationPlan(OnnxGraph original, OnnxGraph graph, ValueInfo input, string explainedOutput, string logits, IReadOnlyList<Node> walk,
        IReadOnlyDictionary<string, IOperatorPropagator> propagators, Node? firstLinear, Node? logitLayer,
        IReadOnlyDictionary<string, LinearRule> rules, IReadOnlySet<string> dynamicValues, IReadOnlyList<NodeReport> report)
    {
        Original = original;
        Graph = graph;
        Input = input;
        ExplainedOutput = explainedOutput;
        Logits = logits;
        WalkNodes = walk;
        Propagators = propagators;
        FirstLinear = firstLinear;
        LogitLayer = logitLayer;
        Rules = rules;
        DynamicValues = dynamicValues;
        Report = report;
        CapturedValues = walk.Where(n => propagators.ContainsKey(n.Name)).SelectMany(n => propagators[n.Name].RequiredValues).Append(logits)
            .Where(v => v != input.Name).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The graph as read from the file (what the runtime executes).</summary>
    public OnnxGraph Original { get; }

    /// <summary>The canonized graph the walk follows.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>The model's default-domain opset (what nodes added to it must be written for).</summary>
    public long Opset => Original.Opsets.TryGetValue(string.Empty, out long v) ? v : 1;

    /// <summary>Every value name the model uses (inputs, initializers, node outputs), which added nodes must not reuse.</summary>
    public IEnumerable<string> ModelValueNames =>
        Original.Inputs.Select(i => i.Name).Concat(Original.Constants.Keys).Concat(Original.Nodes.SelectMany(n => n.Outputs)).Concat(Original.Outputs.Select(o => o.Name));

    /// <summary>True when constant <paramref name="name"/> of the canonized graph is the model's own, unchanged (a graph extending the model may reference it).</summary>
    public bool IsModelConstant(string name) =>
        Original.Constants.TryGetValue(name, out ConstantTensor? original) && Graph.Constants.TryGetValue(name, out ConstantTensor? now) && ReferenceEquals(original, now);

    /// <summary>True when the model computes <paramref name="node"/>'s output exactly as the canonized node does (same op and inputs).</summary>
    public bool IsUnchangedByCanonizers(Node node) =>
        Original.Producer(node.Outputs[0]) is Node o && o.OpType == node.OpType && o.Inputs.SequenceEqual(node.Inputs);

    public ValueInfo Input { get; }

    /// <summary>
    /// True for a channels-last image input [N,H,W,C] (Keras/TensorFlow exports): rank 4 and read only by Transposes to
    /// NCHW (perm 0,3,1,2), as tf2onnx writes it. Heatmaps then sum the last axis instead of axis 1.
    /// </summary>
    public bool ChannelsLast => Input.Dimensions is { Count: 4 } && Original.Consumers(Input.Name) is { Count: > 0 } readers
        && readers.All(n => n.OpType == "Transpose" && n.Attributes.GetInts("perm") is [0, 3, 1, 2]);

    /// <summary>The output the user asked for (or the first graph output).</summary>
    public string ExplainedOutput { get; }

    /// <summary>The value seeds are placed on: the explained output, or the input of the Softmax that produced it.</summary>
    public string Logits { get; }

    public IReadOnlyList<Node> WalkNodes { get; }

    public IReadOnlyDictionary<string, IOperatorPropagator> Propagators { get; }

    public Node? FirstLinear { get; }

    /// <summary>The linear layer that computes the logits (through single-input ops), or null.</summary>
    public Node? LogitLayer { get; }

    public IReadOnlyDictionary<string, LinearRule> Rules { get; }

    public IReadOnlySet<string> DynamicValues { get; }

    public IReadOnlyList<NodeReport> Report { get; }

    /// <summary>What dequantising a quantised model did (the explanation is of the float network it simulates), or null.</summary>
    public QuantisationSummary? Quantisation { get; private init; }

    public IReadOnlyList<string> CapturedValues { get; }

    /// <summary>
    /// The values whose per-image shapes emitted graphs need: every activation a node on the walk reads, the outputs of
    /// linear nodes (ε denominators read them), and the logits.
    /// </summary>
    public IReadOnlyList<string> ProbedValues =>
        WalkNodes.SelectMany(n => n.Inputs.Where(DynamicValues.Contains)
                .Concat(Propagators.TryGetValue(n.Name, out IOperatorPropagator? p) ? p.RequiredValues.Concat(p.IsLinear ? [n.Outputs[0]] : []) : []))
            .Append(Logits).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>True when every node on the walk has a propagator.</summary>
    public bool IsSupported => Report.All(r => r.Supported);

    /// <summary>
    /// Plans explanations of <paramref name="original"/>. With <paramref name="strict"/> the first unsupported node
    /// throws <see cref="UnsupportedOperatorException"/>; otherwise it is recorded in <see cref="Report"/>.
    /// </summary>
    public static ExplanationPlan Build(OnnxGraph original, string? outputName, Composite composite, bool strict)
    {
        // Constants first (weights behind Cast/Transpose become visible to the folds); BatchNorm folds before
        // FuseMatMulAdd, so every Gemm FoldBatchNormDense sees is an exported (2-D) one.
        // Shape arithmetic over activations folds next (issue 11: ShuffleNetV2's chunk, view(x.size(0), -1)), with the
        // activations' shapes from ONNX Runtime's inference at batch 1 and 2 when the input's other axes are fixed.
        // Quantised models are explained as the float network they simulate (issue 11): the plan's "original", which the
        // runtime executes, is that network. Inspect lists a refused quantised node instead of throwing.
        QuantisationSummary? quantisation = null;
        UnsupportedOperatorException? quantisedRefusal = null;
        try
        {
            original = DequantizeModel.Apply(original, out quantisation);
        }
        catch (UnsupportedOperatorException e) when (!strict)
        {
            quantisedRefusal = e;
        }

        ValueInfo input = ImageInput.Find(original);
        OnnxGraph graph = FoldConstants.Apply(RemovePassThrough.Apply(original));
        graph = FoldShapeArithmetic.Apply(graph, (batch, values) => StaticShapes(original, input, batch, values));
        graph = FuseMatMulAdd.Apply(FoldBatchNormDense.Apply(FoldBatchNorm.Apply(graph)));
        // Exporters' decompositions of GELU, LayerNorm and L2 normalisation become one node each for the walk (issue 11).
        graph = FuseL2Normalize.Apply(FuseLayerNorm.Apply(FuseGelu.Apply(graph)));
        string explained = outputName ?? graph.Outputs[0].Name;
        if (graph.Producer(explained) is null)
        {
            throw new InvalidOptionsException($"{graph.Source}: no node computes '{explained}'; graph outputs are {string.Join(", ", graph.Outputs.Select(o => $"'{o.Name}'"))}.");
        }

        string logits = StepBackOverSoftmax(graph, explained);
        HashSet<string> dynamic = DynamicValuesFrom(graph, input.Name);
        if (!dynamic.Contains(logits))
        {
            throw new InvalidGraphException($"{graph.Source}: '{logits}' does not depend on the input '{input.Name}'.");
        }

        HashSet<string> onPath = AncestorNodes(graph, logits, dynamic);
        var walk = graph.Nodes.Where(n => onPath.Contains(n.Name)).ToList();
        var propagators = new Dictionary<string, IOperatorPropagator>(StringComparer.Ordinal);
        var report = new List<NodeReport>();
        var rules = new Dictionary<string, LinearRule>(StringComparer.Ordinal);
        Node? first = null;
        foreach (Node node in walk)
        {
            try
            {
                if (node.OpType is "Softmax" or "LogSoftmax")
                {
                    throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "Softmax is supported only as the final node (its input is taken as the logits)");
                }

                IOperatorPropagator p = OperatorRegistry.Default.Create(node, graph);
                propagators[node.Name] = p;
                if (p.IsLinear)
                {
                    bool isFirst = first is null;
                    first ??= node;
                    var role = new LayerRole(node.OpType is "Conv" or "ConvTranspose" ? LinearLayerKind.Conv : LinearLayerKind.Dense, isFirst);
                    rules[node.Name] = composite.RuleFor(role);
                }
            }
            catch (UnsupportedOperatorException e) when (!strict)
            {
                report.Add(new NodeReport(node, "unsupported: " + e.Message, false));
            }
        }

        // A set, not report.Any(...): the scan made planning quadratic (1.1 s of a 20,000-node chain's load).
        var refused = report.Select(r => r.Node).ToHashSet();
        foreach (Node node in graph.Nodes)
        {
            if (refused.Contains(node))
            {
                continue;
            }

            string role = rules.TryGetValue(node.Name, out LinearRule? rule) ? $"rule {rule.Name}{(node == first ? " (first layer)" : string.Empty)}"
                : propagators.GetValueOrDefault(node.Name) is NormSumPropagator ? $"residual sum, {(composite.Residual == ResidualSharing.ZPlus ? "z+" : "norm")}"
                : propagators.ContainsKey(node.Name) ? "propagates"
                : node.Outputs.All(o => !dynamic.Contains(o)) ? "constant (no relevance)"
                : "after the explained output";
            report.Add(new NodeReport(node, role, true));
        }

        Node? logitLayer = FindLogitLayer(graph, logits, propagators, dynamic);
        // Every node of the file is listed, in the file's order: those canonizers removed say what became of them.
        var byName = report.ToDictionary(r => r.Node.Name, StringComparer.Ordinal);
        Dictionary<string, string> fusedInto = FusedNodes(original, graph);
        var ordered = original.Nodes.Select(n => !byName.TryGetValue(n.Name, out NodeReport? r) ? new NodeReport(n, fusedInto.GetValueOrDefault(n.Name) ?? FoldedRole(n), true)
            : r.Node.OpType == n.OpType ? r
            : new NodeReport(n, $"{r.Role} (rewritten as {r.Node.OpType})", r.Supported)).ToList();
        if (quantisedRefusal is not null)
        {
            ordered = ordered.Select(r => r.Node.Name == quantisedRefusal.NodeName ? new NodeReport(r.Node, "unsupported: " + quantisedRefusal.Message, false) : r).ToList();
        }

        return new ExplanationPlan(original, graph, input, explained, logits, walk, propagators, first, logitLayer, rules, dynamic, ordered) { Quantisation = quantisation };
    }

    /// <summary>ONNX Runtime's inferred full shapes of <paramref name="values"/> for a batch of <paramref name="batch"/>, or null when the input's other axes are open.</summary>
    /// <remarks>A model declaring a fixed batch is probed at that batch whatever is asked: all its shapes are then constants.</remarks>
    private static IReadOnlyDictionary<string, int[]>? StaticShapes(OnnxGraph original, ValueInfo input, int batch, IReadOnlyCollection<string> values) =>
        Execution.ShapeProbe.DeclaredImageShape(input) is int[] image
            ? Execution.ShapeProbe.FullShapes(original, input, [input.Dimensions![0] is long fixedBatch and > 0 ? checked((int)fixedBatch) : batch, .. image], values)
            : null;

    /// <summary>Releases native resources held by propagators (ONNX Runtime kernel sessions).</summary>
    public void Dispose()
    {
        foreach (IOperatorPropagator p in Propagators.Values)
        {
            (p as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// The file's nodes that a fusing canonizer (<see cref="FuseGelu"/>, <see cref="FuseLayerNorm"/>, <see cref="FuseL2Normalize"/>)
    /// folded into one node: between the fused node's inputs and its output in the file, by name → "fused into Op 'name'".
    /// </summary>
    private static Dictionary<string, string> FusedNodes(OnnxGraph original, OnnxGraph graph)
    {
        var kept = new HashSet<string>(graph.Nodes.Select(n => n.Name), StringComparer.Ordinal);
        var fusedInto = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Node fused in graph.Nodes.Where(n => n.OpType is "Gelu" or "LayerNormalization" or L2NormalizeOp.OpType
            && original.Producer(n.Outputs[0]) is Node o && o.OpType != n.OpType))
        {
            var stop = new HashSet<string>(fused.Inputs, StringComparer.Ordinal);
            var pending = new Stack<string>(original.Producer(fused.Outputs[0])!.Inputs);
            while (pending.TryPop(out string? value))
            {
                if (!stop.Contains(value) && original.Producer(value) is Node p && !kept.Contains(p.Name) && fusedInto.TryAdd(p.Name, $"fused into {fused.OpType} '{fused.Name}'"))
                {
                    foreach (string input in p.Inputs)
                    {
                        pending.Push(input);
                    }
                }
            }
        }

        return fusedInto;
    }

    /// <summary>What a canonizer did with a node that is no longer in the canonized graph.</summary>
    private static string FoldedRole(Node node) => node.OpType switch
    {
        "BatchNormalization" => "folded into the preceding linear layer",
        "Identity" or "Dropout" => "removed (pass-through)",
        "MatMul" => "fused with the following Add into a Gemm",
        _ => "constant, folded before the walk (no relevance)",
    };

    /// <summary>The logits: the input of a Softmax/LogSoftmax producing <paramref name="output"/> (looking through reshapes), else the output itself.</summary>
    private static string StepBackOverSoftmax(OnnxGraph graph, string output)
    {
        string value = output;
        for (Node? p = graph.Producer(value); p is not null; p = graph.Producer(value))
        {
            if (p.OpType is "Softmax" or "LogSoftmax")
            {
                return p.Input(0);
            }

            if (p.OpType is "Identity" or "Flatten" or "Reshape" or "Squeeze")
            {
                value = p.Input(0);
                continue;
            }

            break;
        }

        return output;
    }

    private static HashSet<string> DynamicValuesFrom(OnnxGraph graph, string input)
    {
        var dynamic = new HashSet<string>(StringComparer.Ordinal) { input };
        foreach (Node node in graph.Nodes)
        {
            // Shape/Size read only the input's shape, which is fixed by the time the walk runs: no relevance flows there.
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

    private static HashSet<string> AncestorNodes(OnnxGraph graph, string logits, HashSet<string> dynamic)
    {
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([logits]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (stack.Count > 0)
        {
            string value = stack.Pop();
            if (!seen.Add(value) || graph.Producer(value) is not Node p)
            {
                continue;
            }

            nodes.Add(p.Name);
            foreach (string i in p.Inputs.Where(dynamic.Contains))
            {
                stack.Push(i);
            }
        }

        return nodes;
    }

    private static Node? FindLogitLayer(OnnxGraph graph, string logits, Dictionary<string, IOperatorPropagator> propagators, HashSet<string> dynamic)
    {
        string value = logits;
        while (graph.Producer(value) is Node p && propagators.TryGetValue(p.Name, out IOperatorPropagator? prop))
        {
            if (prop.IsLinear)
            {
                return p;
            }

            var dynamicInputs = p.Inputs.Where(dynamic.Contains).ToList();
            if (dynamicInputs.Count != 1 || p.OpType is "MaxPool" or "AveragePool")
            {
                return null;
            }

            value = dynamicInputs[0];
        }

        return null;
    }
}
