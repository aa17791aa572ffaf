using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Fully connected layer: weights [out, in]; <c>z[b,o] = Σ_i W[o,i]·x[b,i]</c> and
/// <c>g_in[b,i] = Σ_o W[o,i]·g[b,o]</c>.
/// </summary>
internal sealed class DenseKernel : ILinearKernel
{
    public DenseKernel(int inputs, int outputs)
    {
        InputShape = [inputs];
        OutputShape = [outputs];
    }

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    public Tensor Forward(Tensor x, LinearWeights weights)
    {
        int batch = x.Shape[0], inputs = InputShape[0], outputs = OutputShape[0];
        var z = new Tensor(batch, outputs);
        // x [B, in] · Wᵀ [in, out]
        Sgemm.Multiply(x.Data, weights.Transposed, z.Data, batch, inputs, outputs);
        return z;
    }

    public Tensor InputGradient(Tensor g, LinearWeights weights)
    {
        int batch = g.Shape[0], inputs = InputShape[0], outputs = OutputShape[0];
        var result = new Tensor(batch, inputs);
        // g [B, out] · W [out, in]
        Sgemm.Multiply(g.Data, weights.Values, result.Data, batch, outputs, inputs);
        return result;
    }

    public void AddBias(Tensor z, float[] bias)
    {
        int outputs = OutputShape[0];
        for (int b = 0; b < z.Shape[0]; b++)
        {
            Span<float> row = z.Data.AsSpan(b * outputs, outputs);
            System.Numerics.Tensors.TensorPrimitives.Add(row, bias, row);
        }
    }
}
