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

    public Tensor Forward(Tensor x, LinearWeights weights, BufferPool? pool = null)
    {
        int batch = x.Shape[0], inputs = InputShape[0], outputs = OutputShape[0];
        var z = new Tensor(batch, outputs);
        // One dot product per (row, output unit) straight from W's rows: no transposed copy of W, which for
        // large dense layers (VGG's 25088×4096) would double the memory held per weight transform.
        float[] w = weights.Values, xs = x.Data, zs = z.Data;
        Parallel.For(0, outputs, new ParallelOptions { MaxDegreeOfParallelism = outputs * inputs < 1 << 16 ? 1 : -1 }, o =>
        {
            ReadOnlySpan<float> row = w.AsSpan(o * inputs, inputs);
            for (int b = 0; b < batch; b++)
            {
                zs[(b * outputs) + o] = System.Numerics.Tensors.TensorPrimitives.Dot(row, xs.AsSpan(b * inputs, inputs));
            }
        });
        return z;
    }

    public Tensor InputGradient(Tensor g, LinearWeights weights, BufferPool? pool = null)
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
