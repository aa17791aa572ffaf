using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Clrp.Onnx.Emitting;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Fully connected layer: weights [out, in]; <c>z[b,o] = Σ_i W[o,i]·x[b,i]</c> and
/// <c>g_in[b,i] = Σ_o W[o,i]·g[b,o]</c>.
/// Derived weights (w⁺, …; <see cref="LinearWeights.Derived"/>) are mapped on the fly, one row or row slice at a
/// time into a small buffer, so a rule's transformed copy of a large layer is never stored. Both products read W
/// once; dense layers are bound by that memory traffic, not by the extra elementwise map.
/// </summary>
internal sealed class DenseKernel : ILinearKernel
{
    // Input columns per task of the input gradient: a slice of W's rows plus the result rows stay in L2.
    private const int ColumnBlock = 2048;

    public DenseKernel(int inputs, int outputs)
    {
        InputShape = [inputs];
        OutputShape = [outputs];
    }

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    public Tensor Forward(Tensor x, LinearWeights? weights, BufferPool? pool = null)
    {
        weights = OrtConvKernel.Required(weights);
        int batch = x.Shape[0], inputs = InputShape[0], outputs = OutputShape[0];
        var z = new Tensor(batch, outputs);
        // One dot product per (row, output unit) straight from W's rows: no transposed copy of W, which for
        // large dense layers (VGG's 25088×4096) would double the memory held per weight transform.
        float[] xs = x.Data, zs = z.Data;
        Parallel.For(0, outputs, new ParallelOptions { MaxDegreeOfParallelism = outputs * inputs < 1 << 16 ? 1 : -1 }, () => ArrayPool<float>.Shared.Rent(inputs), (o, _, scratch) =>
        {
            ReadOnlySpan<float> row = weights.RowOf(o, scratch);
            for (int b = 0; b < batch; b++)
            {
                zs[(b * outputs) + o] = TensorPrimitives.Dot(row, xs.AsSpan(b * inputs, inputs));
            }

            return scratch;
        }, scratch => ArrayPool<float>.Shared.Return(scratch));
        return z;
    }

    public Tensor InputGradient(Tensor g, LinearWeights? weights, BufferPool? pool = null)
    {
        weights = OrtConvKernel.Required(weights);
        int batch = g.Shape[0], inputs = InputShape[0], outputs = OutputShape[0];
        var result = new Tensor(batch, inputs);
        if (weights.Source is null)
        {
            // g [B, out] · W [out, in]
            Sgemm.Multiply(g.Data, weights.Values, result.Data, batch, outputs, inputs);
            return result;
        }

        // Σ_o g[b,o]·map(W[o, block]) per block of input columns; units whose relevance is zero in every row are
        // skipped, which after a ReLU is most of them.
        float[] gs = g.Data, rs = result.Data;
        int blocks = (inputs + ColumnBlock - 1) / ColumnBlock;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = outputs * inputs < 1 << 16 ? 1 : -1 }, block =>
        {
            int start = block * ColumnBlock, length = Math.Min(ColumnBlock, inputs - start);
            Span<float> scratch = stackalloc float[ColumnBlock];
            for (int o = 0; o < outputs; o++)
            {
                scoped ReadOnlySpan<float> slice = default;
                for (int b = 0; b < batch; b++)
                {
                    float gbo = gs[(b * outputs) + o];
                    if (gbo == 0f)
                    {
                        continue;
                    }

                    if (slice.IsEmpty)
                    {
                        slice = weights.Slice(o, start, length, scratch);
                    }

                    Span<float> target = rs.AsSpan((b * inputs) + start, length);
                    TensorPrimitives.MultiplyAdd(slice, gbo, target, target);
                }
            }
        });
        return result;
    }

    /// <summary><c>x·Wᵀ</c>: Gemm with transB over [out, in] weights, or plain over a MatMul's [in, out] matrix.</summary>
    public string EmitForward(OnnxEmitter emitter, string x, EmittedWeights? weights)
    {
        EmittedWeights w = OrtConvKernel.Required(weights);
        return emitter.Gemm(x, w.Name, transA: false, transB: !w.Transposed);
    }

    /// <summary><c>g·W</c>.</summary>
    public string EmitAdjoint(OnnxEmitter emitter, string g, EmittedWeights? weights)
    {
        EmittedWeights w = OrtConvKernel.Required(weights);
        return emitter.Gemm(g, w.Name, transA: false, transB: w.Transposed);
    }

    public string EmitAddBias(OnnxEmitter emitter, string z, float[] bias) => emitter.Node("Add", [z, emitter.Floats(bias, [bias.Length], "bias")]);

    /// <summary>[out, in], read with transB.</summary>
    public (float[] Values, int[] Shape) OnnxWeights(LinearWeights weights) => (weights.Values, [weights.Rows, weights.Columns]);

    public void AddBias(Tensor z, float[] bias)
    {
        int outputs = OutputShape[0];
        for (int b = 0; b < z.Shape[0]; b++)
        {
            Span<float> row = z.Data.AsSpan(b * outputs, outputs);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}
