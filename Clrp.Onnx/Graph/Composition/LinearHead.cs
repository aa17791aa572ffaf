namespace Clrp.Onnx.Graph.Composition;

/// <summary>
/// One affine step on a feature vector, <c>y_f = (x_f − Offset_f)·Scale_f</c> — how ML.NET's affine normalisers
/// (NormalizeMinMax, NormalizeMeanVariance) write it. Written into a graph as Sub then Mul.
/// </summary>
/// <param name="Offset">F offsets, or null for none.</param>
/// <param name="Scale">F scales, or null for none.</param>
public sealed record AffineStep(float[]? Offset, float[]? Scale);

/// <summary>
/// A trained linear classifier over a feature vector of F values: the logits are <c>z = W·a + b</c> with W of K×F
/// (row-major, one row per class) and b of K, where <c>a</c> is the feature vector after <see cref="Affine"/>.
/// Written into a graph as Flatten → (Sub, Mul)* → Gemm(transB = 1), so that the layer-wise rules see the same
/// values the trainer saw.
/// </summary>
/// <param name="Weights">K·F weights, class-major.</param>
/// <param name="Bias">K biases.</param>
/// <param name="Affine">The normalisation applied to the features before the classifier, in order.</param>
public sealed record LinearHead(float[] Weights, float[] Bias, IReadOnlyList<AffineStep> Affine)
{
    /// <summary>K, the number of classes.</summary>
    public int Classes => Bias.Length;

    /// <summary>F, the number of features.</summary>
    public int Features => Bias.Length == 0 ? 0 : Weights.Length / Bias.Length;
}
