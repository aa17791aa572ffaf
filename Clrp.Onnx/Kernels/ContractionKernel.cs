using Clrp.Onnx.Emitting;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// A tensor contraction with a constant matrix, per sample: <c>y[p, u] = Σ_c x[p, c] · W[u, c]</c>, where p runs over the
/// "position" elements both sides share (a MatMul's leading axes, an Einsum's free letters), c over the contracted
/// elements and u over the output units (weights [U, C], rows = output units). Where the elements sit in x and y is
/// given by two index maps, so one kernel serves MatMul with N-D operands on either side and Einsum.
/// Forward gathers x into a [P, C] matrix and multiplies by Wᵀ; the input gradient multiplies [P, U] by W and scatters back.
/// </summary>
internal sealed class ContractionKernel : ILinearKernel
{
    private readonly int[] _inputIndex;
    private readonly int[] _outputIndex;
    private readonly int _positions;
    private readonly int _contracted;
    private readonly int _units;

    /// <param name="inputShape">x per sample.</param>
    /// <param name="outputShape">y per sample.</param>
    /// <param name="inputIndex">[p·C + c]: the flat index in x of element (p, c).</param>
    /// <param name="outputIndex">[p·U + u]: the flat index in y of element (p, u).</param>
    /// <param name="units">U, the number of output units.</param>
    public ContractionKernel(int[] inputShape, int[] outputShape, int[] inputIndex, int[] outputIndex, int units)
    {
        InputShape = inputShape;
        OutputShape = outputShape;
        _inputIndex = inputIndex;
        _outputIndex = outputIndex;
        _units = units;
        _positions = outputIndex.Length / units;
        _contracted = inputIndex.Length / _positions;
        if (_positions * units != Tensor.CheckedCount(outputShape) || _positions * _contracted != inputIndex.Length)
        {
            throw new ArgumentException($"index maps of {inputIndex.Length} and {outputIndex.Length} elements do not describe {Tensor.FormatShape(inputShape)} → {Tensor.FormatShape(outputShape)} with {units} units.");
        }
    }

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    /// <summary>The kernel of <c>x[…, c] · B[c, u]</c> (MatMul with a constant right operand, Gemm on N-D inputs): the last axis is contracted.</summary>
    public static ContractionKernel LastAxis(int[] inputShape, int units)
    {
        int contracted = inputShape[^1], positions = Tensor.CheckedCount(inputShape) / Math.Max(1, contracted);
        int[] identityIn = Enumerable.Range(0, positions * contracted).ToArray();
        int[] identityOut = Enumerable.Range(0, positions * units).ToArray();
        return new ContractionKernel(inputShape, [.. inputShape[..^1], units], identityIn, identityOut, units);
    }

    public Tensor Forward(Tensor x, LinearWeights? weights, BufferPool? pool = null)
    {
        weights = OrtConvKernel.Required(weights);
        int batch = x.Shape[0], inLength = x.RowLength;
        var z = new Tensor([batch, .. OutputShape]);
        int outLength = z.RowLength;
        var gathered = new float[_positions * _contracted];
        var product = new float[_positions * _units];
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> xs = x.Data.AsSpan(b * inLength, inLength);
            for (int i = 0; i < gathered.Length; i++)
            {
                gathered[i] = xs[_inputIndex[i]];
            }

            // [P, C] · Wᵀ [C, U]
            Sgemm.Multiply(gathered, weights.Transposed, product, _positions, _contracted, _units);
            Span<float> zs = z.Data.AsSpan(b * outLength, outLength);
            for (int i = 0; i < product.Length; i++)
            {
                zs[_outputIndex[i]] = product[i];
            }
        }

        return z;
    }

    public Tensor InputGradient(Tensor g, LinearWeights? weights, BufferPool? pool = null)
    {
        weights = OrtConvKernel.Required(weights);
        int batch = g.Shape[0], outLength = g.RowLength;
        var result = new Tensor([batch, .. InputShape]);
        int inLength = result.RowLength;
        var gathered = new float[_positions * _units];
        var product = new float[_positions * _contracted];
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> gs = g.Data.AsSpan(b * outLength, outLength);
            for (int i = 0; i < gathered.Length; i++)
            {
                gathered[i] = gs[_outputIndex[i]];
            }

            // [P, U] · W [U, C]
            Sgemm.Multiply(gathered, weights.Values, product, _positions, _units, _contracted);
            Span<float> rs = result.Data.AsSpan(b * inLength, inLength);
            for (int i = 0; i < product.Length; i++)
            {
                rs[_inputIndex[i]] += product[i];
            }
        }

        return result;
    }

    /// <summary>
    /// Gathers x into [B·P, C] (skipped when x is already in that order), multiplies by Wᵀ with Gemm, and puts the [B, P·U]
    /// product into the output's order (the inverse of the output index map).
    /// </summary>
    public string EmitForward(OnnxEmitter emitter, string x, EmittedWeights? weights)
    {
        EmittedWeights w = OrtConvKernel.Required(weights);
        string rows = Permute(emitter, emitter.Reshape(x, -1, _inputIndex.Length), _inputIndex);
        string product = emitter.Gemm(emitter.Reshape(rows, -1, _contracted), w.Name, transA: false, transB: !w.Transposed);
        string ordered = Permute(emitter, emitter.Reshape(product, -1, _outputIndex.Length), Invert(_outputIndex));
        return emitter.Reshape(ordered, [-1, .. Array.ConvertAll(OutputShape, d => (long)d)]);
    }

    /// <summary>The transposed product: gather g into [B·P, U], multiply by W, and scatter back to x's order.</summary>
    public string EmitAdjoint(OnnxEmitter emitter, string g, EmittedWeights? weights)
    {
        EmittedWeights w = OrtConvKernel.Required(weights);
        string rows = Permute(emitter, emitter.Reshape(g, -1, _outputIndex.Length), _outputIndex);
        string product = emitter.Gemm(emitter.Reshape(rows, -1, _units), w.Name, transA: false, transB: w.Transposed);
        string ordered = Permute(emitter, emitter.Reshape(product, -1, _inputIndex.Length), Invert(_inputIndex));
        return emitter.Reshape(ordered, [-1, .. Array.ConvertAll(InputShape, d => (long)d)]);
    }

    public string EmitAddBias(OnnxEmitter emitter, string z, float[] bias)
    {
        var perElement = new float[_outputIndex.Length];
        for (int i = 0; i < _outputIndex.Length; i++)
        {
            perElement[_outputIndex[i]] = bias[i % _units];
        }

        return emitter.Node("Add", [z, emitter.Floats(perElement, [1, .. OutputShape], "bias")]);
    }

    /// <summary>[U, C], read with transB.</summary>
    public (float[] Values, int[] Shape) OnnxWeights(LinearWeights weights) => (weights.Values, [weights.Rows, weights.Columns]);

    /// <summary>Gathers the columns of a [B, L] value in the order <paramref name="order"/>; nothing when it is the identity.</summary>
    private static string Permute(OnnxEmitter emitter, string value, int[] order)
    {
        bool identity = true;
        for (int i = 0; i < order.Length && identity; i++)
        {
            identity = order[i] == i;
        }

        return identity ? value : emitter.Node("Gather", [value, emitter.Longs(Array.ConvertAll(order, v => (long)v), [order.Length])], OnnxEmitter.Int("axis", 1));
    }

    private static int[] Invert(int[] permutation)
    {
        var inverse = new int[permutation.Length];
        for (int i = 0; i < permutation.Length; i++)
        {
            inverse[permutation[i]] = i;
        }

        return inverse;
    }

    public void AddBias(Tensor z, float[] bias)
    {
        int outLength = z.RowLength;
        for (int b = 0; b < z.Shape[0]; b++)
        {
            Span<float> zs = z.Data.AsSpan(b * outLength, outLength);
            for (int i = 0; i < _outputIndex.Length; i++)
            {
                zs[_outputIndex[i]] += bias[i % _units];
            }
        }
    }
}
