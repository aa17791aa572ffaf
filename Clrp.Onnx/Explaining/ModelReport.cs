using Clrp.Onnx.Planning;
using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// What <see cref="ClrpExplainer.Inspect"/> finds in a model without running it: the image input, the
/// explained output and logits, the opsets, and every node's role in the backward walk (its rule,
/// "propagates", "constant", or "unsupported: reason").
/// </summary>
public sealed record ModelReport(
    string Source,
    ValueInfo Input,
    string ExplainedOutput,
    string Logits,
    IReadOnlyDictionary<string, long> Opsets,
    IReadOnlyList<NodeReport> Nodes,
    string? FirstLinearLayer,
    string? LogitLayer)
{
    /// <summary>True when every node on the explained path has a propagator.</summary>
    public bool IsSupported => Nodes.All(n => n.Supported);

    /// <summary>
    /// For a quantised model (QDQ pairs, QLinearConv/QLinearMatMul…), one line saying that it is explained as the float
    /// network it simulates and what was dequantised; null for a float model.
    /// </summary>
    public string? Quantisation { get; init; }
}
