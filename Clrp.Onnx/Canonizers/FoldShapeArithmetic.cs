using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Folds the shape arithmetic exporters write over an activation's shape — ShuffleNetV2's <c>x.chunk(2, dim=1)</c> as
/// Shape → Gather → Div → Mul → Slice, <c>x[:, : x.shape[1] // 2]</c>, <c>view(x.size(0), -1)</c>, <c>F.pad</c> with computed
/// sizes — into constants, where the dimensions it reads are static.
/// <para>
/// How: the graph is evaluated twice with <see cref="ConstantEvaluator"/>, once with the shapes of a batch of one and once of
/// a batch of two (the activations' full shapes as ONNX Runtime infers them on the weightless model, the batch axis wherever
/// it went). A value equal in both does not depend on the batch and becomes a constant. A Reshape/Expand shape that differs
/// only in its first entry, equal to the batch size in both (1 and 2), is the batch copied: it becomes the constant with 0
/// there (Reshape: copy the input's dimension) or 1 (Expand: broadcast), as long as the data's first axis is the batch.
/// Anything else — shapes of a model exported with open spatial axes, values computed from data — stays, and the operator
/// that needs it constant refuses it, naming the node.
/// </para>
/// Pure: returns a new graph; the runtime still runs the original model, so forward values are unchanged.
/// </summary>
internal static class FoldShapeArithmetic
{
    /// <summary>
    /// Folds what can be folded. <paramref name="fullShapes"/> gives ONNX Runtime's inferred full shapes of some values for an
    /// input batch of the given size (null when inference leaves any open); it is asked only when the graph reads the shape of
    /// a computed value.
    /// </summary>
    public static OnnxGraph Apply(OnnxGraph graph, Func<int, IReadOnlyCollection<string>, IReadOnlyDictionary<string, int[]>?> fullShapes)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(fullShapes);
        var shaped = graph.Nodes.Where(n => n.Domain.Length == 0 && n.OpType is "Shape" or "Size" && n.Input(0).Length > 0 && !graph.IsConstant(n.Input(0)))
            .Select(n => n.Input(0)).Distinct(StringComparer.Ordinal).ToArray();
        if (shaped.Length == 0)
        {
            return graph;
        }

        IReadOnlyDictionary<string, int[]>? one = fullShapes(1, shaped);
        IReadOnlyDictionary<string, int[]>? two = one is null ? null : fullShapes(2, shaped);
        if (one is null || two is null)
        {
            return graph;
        }

        Dictionary<string, ConstantTensor> world1 = Evaluate(graph, one);
        Dictionary<string, ConstantTensor> world2 = Evaluate(graph, two);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var folded = new Dictionary<string, ConstantTensor>(StringComparer.Ordinal);
        foreach (var (name, v1) in world1)
        {
            if (!graph.IsConstant(name) && world2.TryGetValue(name, out ConstantTensor? v2) && Same(v1, v2))
            {
                folded[name] = v1;
            }
        }

        var kept = new List<Node>(graph.Nodes.Count);
        foreach (Node node in graph.Nodes)
        {
            if (node.Outputs.Count > 0 && node.Outputs.All(o => o.Length == 0 || folded.ContainsKey(o)) && !node.Outputs.Any(outputs.Contains))
            {
                continue;
            }

            kept.Add(BatchCopied(node, world1, world2, folded, one, graph));
        }

        return kept.Count == graph.Nodes.Count && folded.Count == 0 ? graph : graph.WithNodes(kept, folded);
    }

    /// <summary>
    /// A Reshape/Expand whose shape input differs between the worlds only in entry 0, which is the batch size (1, 2), rewired
    /// to a folded shape with 0 (Reshape, allowzero off) or 1 (Expand) there; any other node unchanged.
    /// </summary>
    private static Node BatchCopied(Node node, Dictionary<string, ConstantTensor> world1, Dictionary<string, ConstantTensor> world2,
        Dictionary<string, ConstantTensor> folded, IReadOnlyDictionary<string, int[]> one, OnnxGraph graph)
    {
        bool reshape = node.OpType == "Reshape" && node.Opset >= 5 && node.Attributes.GetInt("allowzero", 0) == 0;
        bool expand = node.OpType == "Expand";
        if (node.Domain.Length != 0 || !(reshape || expand) || node.Inputs.Count < 2 || folded.ContainsKey(node.Input(1)) || graph.IsConstant(node.Input(1))
            || !world1.TryGetValue(node.Input(1), out ConstantTensor? s1) || !world2.TryGetValue(node.Input(1), out ConstantTensor? s2))
        {
            return node;
        }

        long[] a = s1.AsLongs();
        long[] b = s2.AsLongs();
        if (a.Length == 0 || a.Length != b.Length || a[0] != 1 || b[0] != 2 || !a.AsSpan(1).SequenceEqual(b.AsSpan(1)) || !BatchLeads(node.Input(0), one, graph))
        {
            return node;
        }

        long[] shape = [reshape ? 0 : 1, .. a[1..]];
        string name = $"{node.Input(1)}__clrp_batch_copied";
        folded[name] = new ConstantTensor([shape.Length], shape);
        return node.With(inputs: [node.Input(0), name, .. node.Inputs.Skip(2)]);
    }

    /// <summary>True when <paramref name="value"/>'s first axis is the batch: the image input, or a value ORT inferred with 1 there.</summary>
    private static bool BatchLeads(string value, IReadOnlyDictionary<string, int[]> one, OnnxGraph graph) =>
        graph.Inputs.Any(i => i.Name == value) || (one.TryGetValue(value, out int[]? s) && s.Length > 0 && s[0] == 1);

    /// <summary>Every value computable from constants and the given shapes, in topological order.</summary>
    private static Dictionary<string, ConstantTensor> Evaluate(OnnxGraph graph, IReadOnlyDictionary<string, int[]> shapes)
    {
        var known = new Dictionary<string, ConstantTensor>(graph.Constants, StringComparer.Ordinal);
        foreach (Node node in graph.Nodes)
        {
            if (node.Domain.Length != 0 || node.Outputs.Count != 1)
            {
                continue;
            }

            if (node.OpType is "Shape" or "Size" && !known.ContainsKey(node.Input(0)) && shapes.TryGetValue(node.Input(0), out int[]? dims))
            {
                known[node.Outputs[0]] = node.OpType == "Size"
                    ? new ConstantTensor([], [dims.Aggregate(1L, (p, d) => p * d)])
                    : new ConstantTensor([ShapeRange(node, dims.Length).Length], ShapeRange(node, dims.Length).Select(i => (long)dims[i]).ToArray());
                continue;
            }

            if (!ConstantEvaluator.Supported.Contains(node.OpType) || node.Inputs.Any(i => i.Length > 0 && !known.ContainsKey(i)))
            {
                continue;
            }

            var inputs = node.Inputs.Select(i => i.Length > 0 ? known[i] : null).ToList();
            if (ConstantEvaluator.Evaluate(node, inputs, graph.Source) is { } value)
            {
                known[node.Outputs[0]] = value;
            }
        }

        return known;
    }

    /// <summary>The axes Shape reads: [start, end) of opset 15, negative values counted from the end, clamped.</summary>
    private static int[] ShapeRange(Node node, int rank)
    {
        long start = node.Attributes.GetInt("start", 0);
        long end = node.Attributes.Has("end") ? node.Attributes.GetInt("end", rank) : rank;
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        return Enumerable.Range((int)start, (int)Math.Max(0, end - start)).ToArray();
    }

    private static bool Same(ConstantTensor a, ConstantTensor b) =>
        a.Shape.AsSpan().SequenceEqual(b.Shape)
        && (a.Floats is { } fa ? b.Floats is { } fb && fa.AsSpan().SequenceEqual(fb) : b.Longs is { } lb && a.Longs!.AsSpan().SequenceEqual(lb));
}
