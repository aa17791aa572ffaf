using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Folds <c>BatchNormalization(Conv(x, W, b))</c> into one Conv when the Conv's output feeds only the
/// BatchNormalization: with <c>k = γ/√(var + ε)</c>, <c>W'[m] = W[m]·k_m</c> and <c>b' = (b − mean)·k + β</c>.
/// The logits are unchanged (up to float rounding); rules then see one linear layer whose folded bias
/// follows the rule (kept by ε, ignored by z⁺/z^B), as in Zennit's MergeBatchNorm. Pure: returns a new graph.
/// A BatchNormalization that cannot be folded stays and passes relevance unchanged.
/// </summary>
public static class FoldBatchNorm
{
    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var constants = new Dictionary<string, ConstantTensor>(StringComparer.Ordinal);
        var replaced = new Dictionary<string, Node>(StringComparer.Ordinal); // conv name → folded conv
        var removed = new HashSet<string>(StringComparer.Ordinal);         // BN names
        foreach (Node bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0))
        {
            if (graph.Producer(bn.Input(0)) is not Node conv || conv.OpType != "Conv" || conv.Domain.Length != 0
                || graph.Consumers(conv.Outputs[0]).Count != 1 || outputs.Contains(conv.Outputs[0])
                || bn.Attributes.GetInt("training_mode", 0) != 0 || bn.Outputs.Skip(1).Any(o => o.Length > 0)
                || !graph.Constants.TryGetValue(conv.Input(1), out ConstantTensor? w) || w.Floats is null || w.Shape.Length < 2
                || (conv.Input(2).Length > 0 && !graph.Constants.ContainsKey(conv.Input(2))))
            {
                continue;
            }

            float[]?[] p = Enumerable.Range(1, 4).Select(i => graph.Constants.TryGetValue(bn.Input(i), out ConstantTensor? c) ? c.AsFloats() : null).ToArray();
            int m = w.Shape[0];
            if (p.Any(v => v is null || v.Length != m))
            {
                continue;
            }

            float[] scale = p[0]!, shift = p[1]!, mean = p[2]!, variance = p[3]!;
            float epsilon = bn.Attributes.GetFloat("epsilon", 1e-5f);
            float[] bias = conv.Input(2).Length > 0 ? graph.Constants[conv.Input(2)].AsFloats() : new float[m];
            int perChannel = w.Length / m;
            var folded = new float[w.Length];
            var foldedBias = new float[m];
            for (int c = 0; c < m; c++)
            {
                double k = scale[c] / Math.Sqrt(variance[c] + (double)epsilon);
                for (int i = 0; i < perChannel; i++)
                {
                    folded[(c * perChannel) + i] = (float)(w.Floats[(c * perChannel) + i] * k);
                }

                foldedBias[c] = (float)(((bias[c] - (double)mean[c]) * k) + shift[c]);
            }

            string wName = $"{conv.Name}::bn_folded_weight", bName = $"{conv.Name}::bn_folded_bias";
            constants[wName] = new ConstantTensor(w.Shape, folded);
            constants[bName] = new ConstantTensor([m], foldedBias);
            replaced[conv.Name] = conv.With(inputs: [conv.Input(0), wName, bName], outputs: [bn.Outputs[0]]);
            removed.Add(bn.Name);
        }

        if (replaced.Count == 0)
        {
            return graph;
        }

        var nodes = graph.Nodes.Where(n => !removed.Contains(n.Name)).Select(n => replaced.TryGetValue(n.Name, out Node? f) ? f : n).ToList();
        return graph.WithNodes(nodes, constants);
    }
}
