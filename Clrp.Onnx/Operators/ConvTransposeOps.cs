using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>ConvTranspose (1-D, 2-D and 3-D): a linear layer, "Conv" for composites.</summary>
internal static class ConvTransposeOps
{
    public static void Register(OperatorRegistry registry) => registry.Register("ConvTranspose", 1, 22, (n, g) => new ConvTransposePropagator(n, g));
}

/// <summary>
/// ConvTranspose, X [N, C_in, spatial…], W [C_in, C_out/group, k…], B [C_out] over 1, 2 or 3 spatial axes; strides, dilations, pads, output_padding,
/// output_shape, auto_pad. Relevance by the node's rule over <see cref="ConvTransposeKernel"/> (every rule is a
/// configuration over Forward and InputGradient, so it applies unchanged); gradient <c>Wᵀg</c> = the convolution.
/// Output size <c>s·(in − 1) + output_padding + (k − 1)·d + 1 − pad_begin − pad_end</c>; with output_shape (or SAME
/// auto_pad, output = in·s) the pads are derived as ONNX says: total = s·(in − 1) + output_padding + (k − 1)·d + 1 − out,
/// SAME_UPPER puts ⌊total/2⌋ first, otherwise ⌈total/2⌉ first.
/// </summary>
internal sealed class ConvTransposePropagator : ILinearPropagator, IDisposable
{
    private readonly Node _node;
    private readonly LinearLayer _layer;
    private readonly int _group;
    private readonly int _inChannels;
    private readonly int _outChannels;
    private readonly int[] _kernel;
    private readonly ConcurrentDictionary<string, ConvTransposeKernel> _kernels = new(StringComparer.Ordinal);

    public ConvTransposePropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        ConvParameters p = ConvParameters.Read(node, graph, "transposed convolutions", "input channels", (shape, group) => shape[1] * group);
        _group = p.Group;
        _inChannels = p.Weights.Shape[0];
        _outChannels = p.Weights.Shape[1] * _group;
        _kernel = p.Kernel;
        float[] outputMajor = ConvTransposeKernel.ToOutputMajor(p.Values, _inChannels, _outChannels, _group);
        _layer = new LinearLayer(new LinearWeights(outputMajor, _outChannels, _group, new WeightOrigin(node.Input(1), Transposed: false)), p.Bias);
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => true;

    public string InputName => _node.Input(0);

    public LinearLayer Layer => _layer;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue a = alg.Activation(InputName);
        (ILinearKernel kernel, _) = KernelFor(a.RowShape);
        RelValue relevance = alg.Reshape(outputRelevance[0]!, kernel.OutputShape);
        RelValue result = LinearPropagation.Backward(_node, InputName, kernel, _layer, a, relevance, alg, plan);
        return _node.Inputs.Count == 3 ? [result, null, null] : [result, null];
    }

    public (ILinearKernel Kernel, LinearLayer Layer) KernelFor(int[] inputRow)
    {
        if (inputRow.Length != _kernel.Length + 1 || inputRow[0] != _inChannels)
        {
            throw LinearOps.Unsupported(_node, $"input has shape {Tensor.FormatShape(inputRow)} per image; a {_kernel.Length}-D transposed convolution expects [{_inChannels},{string.Join(',', ConvPropagator.SpatialNames(_kernel.Length))}]");
        }

        return (KernelForSize(inputRow[1..]), _layer);
    }

    internal ConvTransposeKernel KernelFor(int h, int w) => KernelForSize([h, w]);

    private ConvTransposeKernel KernelForSize(int[] size) =>
        _kernels.GetOrAdd(Tensor.FormatShape(size), _ => new ConvTransposeKernel(_inChannels, _outChannels, _group, AdjointWindow(size)));

    public void Dispose()
    {
        foreach (ConvTransposeKernel kernel in _kernels.Values)
        {
            kernel.Dispose();
        }
    }

    /// <summary>The window of the convolution this layer is the adjoint of: it reads this layer's output grid and yields its input grid.</summary>
    private Window AdjointWindow(int[] size)
    {
        int rank = _kernel.Length;
        NodeAttributes a = _node.Attributes;
        long[] strides = a.GetInts("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
        long[] dilations = a.GetInts("dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
        long[] pads = a.GetInts("pads") ?? new long[2 * rank];
        long[] outputPadding = a.GetInts("output_padding") ?? new long[rank];
        long[]? outputShape = a.GetInts("output_shape");
        string autoPad = a.GetString("auto_pad", "NOTSET");
        if (strides.Length != rank || dilations.Length != rank || pads.Length != 2 * rank || outputPadding.Length != rank || (outputShape is not null && outputShape.Length != rank && outputShape.Length != rank + 2))
        {
            throw LinearOps.Unsupported(_node, $"a {rank}-D transposed convolution needs {rank} strides, dilations, output_padding and output_shape entries and {2 * rank} pads");
        }

        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
        {
            throw LinearOps.Unsupported(_node, $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        }

        var outSize = new int[rank];
        var begin = new int[rank];
        var end = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int s = (int)strides[i], d = (int)dilations[i], extent = (d * (_kernel[i] - 1)) + 1, adj = (int)outputPadding[i];
            int full = (s * (size[i] - 1)) + adj + extent;
            int? target = outputShape is not null ? (int)outputShape[^(rank - i)] : autoPad is "SAME_UPPER" or "SAME_LOWER" ? size[i] * s : null;
            if (target is int t)
            {
                int total = full - t;
                (begin[i], end[i]) = autoPad == "SAME_UPPER" ? (total / 2, total - (total / 2)) : (total - (total / 2), total / 2);
            }
            else
            {
                (begin[i], end[i]) = autoPad == "VALID" ? (0, 0) : ((int)pads[i], (int)pads[i + rank]);
            }

            outSize[i] = full - begin[i] - end[i];
            if (outSize[i] <= 0 || s <= 0 || d <= 0)
            {
                throw LinearOps.Unsupported(_node, $"a {string.Join('×', _kernel)} transposed window on a {string.Join('×', size)} input gives no output");
            }
        }

        return new Window(_kernel, Array.ConvertAll(strides, v => (int)v), Array.ConvertAll(dilations, v => (int)v), begin, end, outSize, size);
    }
}
