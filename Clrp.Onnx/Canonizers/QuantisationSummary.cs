namespace Clrp.Onnx.Canonizers;

/// <summary>What <see cref="DequantizeModel"/> did to a quantised model (null when the model holds no quantisation).</summary>
/// <param name="QdqPairs">QuantizeLinear → DequantizeLinear pairs on activations, replaced by the saturation Clip they imply.</param>
/// <param name="QLinearOps">QLinearConv/QLinearMatMul/QGemm/QLinearAdd/QLinearGlobalAveragePool/QLinearConcat and ConvInteger/MatMulInteger nodes rewritten as float ops.</param>
/// <param name="DequantisedConstants">Constant integer tensors (weights, biases) dequantised to float initializers.</param>
internal sealed record QuantisationSummary(int QdqPairs, int QLinearOps, int DequantisedConstants)
{
    /// <summary>The one line <c>clrp info</c> and <see cref="Explaining.ModelReport.Quantisation"/> show.</summary>
    public override string ToString() =>
        $"quantised model: explained as the float network it simulates ({QdqPairs} QDQ pairs, {QLinearOps} QLinear ops dequantised, {DequantisedConstants} integer weights/biases dequantised; rounding dropped, saturation kept as Clip)";
}
