using Clrp.Onnx.Emitting;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// A linear map <c>z = x ∗ W</c> (convolution, matrix product, or a parameter-free map such as a pool's average) over a
/// batch, with the two operations every LRP rule is built from (Zennit's design): the forward product and its input
/// gradient (the transposed map). Rules differ only in how they modify x and W before calling these.
/// Each operation exists twice, as computation (<see cref="Forward"/>, <see cref="InputGradient"/>) and as ONNX nodes
/// that compute the same (<see cref="EmitForward"/>, <see cref="EmitAdjoint"/>): the two interpreters of the relevance
/// algebra call one or the other.
/// </summary>
internal interface ILinearKernel
{
    /// <summary>Shape of one input sample (without the batch axis).</summary>
    int[] InputShape { get; }

    /// <summary>Shape of one output sample (without the batch axis).</summary>
    int[] OutputShape { get; }

    /// <summary>Computes <c>z[b] = W · x[b]</c> for every sample b of <paramref name="x"/> ([B, …InputShape]).</summary>
    Tensor Forward(Tensor x, LinearWeights? weights, BufferPool? pool = null);

    /// <summary>Computes the input gradient <c>g_in[b] = Wᵀ · g[b]</c> for every sample of <paramref name="g"/> ([B, …OutputShape]).</summary>
    Tensor InputGradient(Tensor g, LinearWeights? weights, BufferPool? pool = null);

    /// <summary>Adds <c>bias[o]</c> to every element of output unit/channel o of <paramref name="z"/>.</summary>
    void AddBias(Tensor z, float[] bias);

    /// <summary>Emits <see cref="Forward"/>: <paramref name="x"/> is [B, …InputShape]; returns the [B, …OutputShape] value.</summary>
    string EmitForward(OnnxEmitter emitter, string x, EmittedWeights? weights);

    /// <summary>Emits <see cref="InputGradient"/>: <paramref name="g"/> is [B, …OutputShape]; returns the [B, …InputShape] value.</summary>
    string EmitAdjoint(OnnxEmitter emitter, string g, EmittedWeights? weights);

    /// <summary>Emits <see cref="AddBias"/>.</summary>
    string EmitAddBias(OnnxEmitter emitter, string z, float[] bias);

    /// <summary>
    /// The weights as this kernel's ONNX operator takes them (values and shape), for graphs that cannot reference the
    /// model's own initializer (folded BatchNorm, rearranged Einsum operands).
    /// </summary>
    (float[] Values, int[] Shape) OnnxWeights(LinearWeights weights);
}

/// <summary>
/// Weights in an emitted graph: the name of a tensor holding them in the kernel's ONNX layout, or, for dense kernels,
/// transposed (<paramref name="Transposed"/>: a MatMul's [in, out] matrix read with Gemm's transB instead of copied).
/// </summary>
internal sealed record EmittedWeights(string Name, bool Transposed);
