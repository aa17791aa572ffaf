using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// A linear map <c>z = x ∗ W</c> (convolution or matrix product, no bias) over a batch, with the two
/// operations every LRP rule is built from (Zennit's design): the forward product and its input
/// gradient (the transposed map). Rules differ only in how they modify x and W before calling these.
/// </summary>
internal interface ILinearKernel
{
    /// <summary>Shape of one input sample (without the batch axis).</summary>
    int[] InputShape { get; }

    /// <summary>Shape of one output sample (without the batch axis).</summary>
    int[] OutputShape { get; }

    /// <summary>Computes <c>z[b] = W · x[b]</c> for every sample b of <paramref name="x"/> ([B, …InputShape]).</summary>
    Tensor Forward(Tensor x, LinearWeights weights, BufferPool? pool = null);

    /// <summary>Computes the input gradient <c>g_in[b] = Wᵀ · g[b]</c> for every sample of <paramref name="g"/> ([B, …OutputShape]).</summary>
    Tensor InputGradient(Tensor g, LinearWeights weights, BufferPool? pool = null);

    /// <summary>Adds <c>bias[o]</c> to every element of output unit/channel o of <paramref name="z"/>.</summary>
    void AddBias(Tensor z, float[] bias);
}
