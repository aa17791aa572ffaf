using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Why an operator has no propagator, and what to use instead: the text of a registry miss. Known gaps (recurrent ops,
/// quantised ops, ONNX Runtime's fused com.microsoft ops) get their
/// reason and alternative; any other op gets the supported op with the closest name.
/// </summary>
internal static class UnsupportedOps
{
    /// <summary>Known ai.onnx gaps: the reason and the nearest supported alternative.</summary>
    private static readonly Dictionary<string, (string Reason, string Alternative)> Known = new(StringComparer.Ordinal)
    {
        ["LSTM"] = ("recurrent ops are not supported yet", "export the convolutional part (Conv, Gemm) without the recurrent layer"),
        ["GRU"] = ("recurrent ops are not supported yet", "export the convolutional part (Conv, Gemm) without the recurrent layer"),
        ["RNN"] = ("recurrent ops are not supported yet", "export the convolutional part (Conv, Gemm) without the recurrent layer"),
        ["Scan"] = ("control flow (subgraphs) is not supported", "a model exported without loops"),
        ["Loop"] = ("control flow (subgraphs) is not supported", "a model exported without loops"),
        ["If"] = ("control flow (subgraphs) is not supported", "a model exported without branches"),
        // Quantised models are rewritten as the float network they simulate before planning (Canonizers/DequantizeModel);
        // these reach the registry only where that rewrite left them: a QuantizeLinear whose integer output feeds an op that
        // is not dequantised, or (in Inspect) the quantised graph after the rewrite refused a node, which is listed too.
        ["ConvInteger"] = ("a quantised operator the dequantiser could not rewrite (see the quantised node refused in this model)", "Conv (explain the float32 model)"),
        ["QLinearConv"] = ("a quantised operator the dequantiser could not rewrite (see the quantised node refused in this model)", "Conv (explain the float32 model)"),
        ["MatMulInteger"] = ("a quantised operator the dequantiser could not rewrite (see the quantised node refused in this model)", "MatMul (explain the float32 model)"),
        ["QLinearMatMul"] = ("a quantised operator the dequantiser could not rewrite (see the quantised node refused in this model)", "MatMul (explain the float32 model)"),
        ["QuantizeLinear"] = ("its integer output feeds an operator that is not dequantised (only DequantizeLinear, the QLinear ops and MaxPool/Flatten/Reshape/Transpose/Squeeze/Unsqueeze read quantised tensors)", "a DequantizeLinear after it (QDQ format)"),
        ["DequantizeLinear"] = ("a quantised operator the dequantiser could not rewrite (see the quantised node refused in this model)", "the float32 model"),
        ["Attention"] = ("attention multiplies two activations, which is outside ClrpMl's CNN scope", "Gemm/MatMul with constant weights"),
        ["LpPool"] = ("Lp pooling has no LRP convention here yet", "AveragePool or MaxPool"),
        ["GlobalLpPool"] = ("Lp pooling has no LRP convention here yet", "GlobalAveragePool or GlobalMaxPool"),
    };

    /// <summary>ONNX Runtime's fused ops (written when a model is saved after graph optimisation) and the ops they fuse.</summary>
    private static readonly Dictionary<string, string> Fused = new(StringComparer.Ordinal)
    {
        ["FusedConv"] = "Conv followed by its activation",
        ["FusedGemm"] = "Gemm followed by its activation",
        ["FusedMatMul"] = "MatMul",
        ["NhwcConv"] = "Conv",
        ["NhwcMaxPool"] = "MaxPool",
        ["QLinearConv"] = "Conv",
        ["QLinearAdd"] = "Add",
        ["QLinearGlobalAveragePool"] = "GlobalAveragePool",
        ["BiasGelu"] = "Add followed by an activation",
        ["FastGelu"] = "an element-wise activation",
        ["QuickGelu"] = "x·Sigmoid(1.702·x), a gating Mul",
    };

    /// <summary>The reason a registry miss on <paramref name="node"/> gives, naming the nearest supported alternative.</summary>
    public static string Explain(Node node, IReadOnlyCollection<string> supported)
    {
        if (node.Domain.Length > 0)
        {
            string alternative = Fused.TryGetValue(node.OpType, out string? fused) ? fused : Closest(node.OpType, supported);
            string origin = node.Domain == "com.microsoft"
                ? "a custom-domain ONNX Runtime operator (com.microsoft, written by ORT's graph optimiser or a contrib exporter); explain the model as exported, not one saved after ORT's optimisations"
                : $"a custom-domain operator ('{node.Domain}') that only its own runtime defines";
            return $"{origin}. Nearest supported alternative: {alternative}.";
        }

        if (Known.TryGetValue(node.OpType, out var known))
        {
            return $"{known.Reason}. Nearest supported alternative: {known.Alternative}.";
        }

        return $"no relevance propagator for this operator. Nearest supported alternative: {Closest(node.OpType, supported)}. Supported: {string.Join(", ", supported)}.";
    }

    /// <summary>The supported op whose name contains, or is contained in, <paramref name="opType"/>; else the one with the smallest edit distance.</summary>
    internal static string Closest(string opType, IReadOnlyCollection<string> supported)
    {
        string? containing = supported
            .Where(op => op.Contains(opType, StringComparison.OrdinalIgnoreCase) || opType.Contains(op, StringComparison.OrdinalIgnoreCase))
            .OrderBy(op => Math.Abs(op.Length - opType.Length)).ThenBy(op => op, StringComparer.Ordinal).FirstOrDefault();
        return containing ?? supported.OrderBy(op => Distance(op.ToUpperInvariant(), opType.ToUpperInvariant())).ThenBy(op => op, StringComparer.Ordinal).First();
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
