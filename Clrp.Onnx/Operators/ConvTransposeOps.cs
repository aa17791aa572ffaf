using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>ConvTranspose (2-D): a linear layer, "Conv" for composites.</summary>
internal static class ConvTransposeOps
{
    public static void Register(OperatorRegistry registry) => registry.Register("ConvTranspose", 1, 22, (n, g) => new ConvTransposePropagator(n, g));
}

/// <summary>
/// ConvTranspose, X [N, C_in, H, W], W [C_in, C_out/group, kH, kW], B [C_out]; strides, dilations, pads, output_padding,
/// output_shape, auto_pad. Relevance by the node's rule over <see cref="ConvTranspose2dKernel"/> (every rule is a
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
    private readonly int _kernelH;
    private readonly int _kernelW;
    private readonly ConcurrentDictionary<(int H, int W), ConvTranspose2dKernel> _kernels = new();

    public ConvTransposePropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        ConvParameters p = ConvParameters.Read(node, graph, "transposed convolutions", "input channels", (shape, group) => shape[1] * group);
        _group = p.Group;
        _inChannels = p.Weights.Shape[0];
        _outChannels = p.Weights.Shape[1] * _group;
        _kernelH = p.KernelH;
        _kernelW = p.KernelW;
        float[] outputMajor = ConvTranspose2dKernel.ToOutputMajor(p.Values, _inChannels, _outChannels, _group);
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
        if (inputRow.Length != 3 || inputRow[0] != _inChannels)
        {
            throw LinearOps.Unsupported(_node, $"input has shape {Tensor.FormatShape(inputRow)} per image; expected [{_inChannels},H,W]");
        }

        return (KernelFor(inputRow[1], inputRow[2]), _layer);
    }

    internal ConvTranspose2dKernel KernelFor(int h, int w) =>
        _kernels.GetOrAdd((h, w), key => new ConvTranspose2dKernel(_inChannels, _outChannels, _group, AdjointWindow(key.H, key.W)));

    public void Dispose()
    {
        foreach (ConvTranspose2dKernel kernel in _kernels.Values)
        {
            kernel.Dispose();
        }
    }

    /// <summary>The window of the convolution this layer is the adjoint of: it reads the H_out × W_out output and yields H_in × W_in.</summary>
    private Window2d AdjointWindow(int inH, int inW)
    {
        NodeAttributes a = _node.Attributes;
        long[] strides = a.GetInts("strides") ?? [1, 1];
        long[] dilations = a.GetInts("dilations") ?? [1, 1];
        long[] pads = a.GetInts("pads") ?? [0, 0, 0, 0];
        long[] outputPadding = a.GetInts("output_padding") ?? [0, 0];
        long[]? outputShape = a.GetInts("output_shape");
        string autoPad = a.GetString("auto_pad", "NOTSET");
        if (strides.Length != 2 || dilations.Length != 2 || pads.Length != 4 || outputPadding.Length != 2 || outputShape is { Length: not 2 and not 4 })
        {
            throw LinearOps.Unsupported(_node, "expected 2-D strides, dilations, output_padding, output_shape and 4 pads (1-D and 3-D transposed convolutions are not supported yet)");
        }

        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
        {
            throw LinearOps.Unsupported(_node, $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        }

        int[] size = [inH, inW];
        var outSize = new int[2];
        var begin = new int[2];
        var end = new int[2];
        for (int i = 0; i < 2; i++)
        {
            int s = (int)strides[i], d = (int)dilations[i], extent = (d * ((i == 0 ? _kernelH : _kernelW) - 1)) + 1, adj = (int)outputPadding[i];
            int full = (s * (size[i] - 1)) + adj + extent;
            int? target = outputShape is not null ? (int)outputShape[^(2 - i)] : autoPad is "SAME_UPPER" or "SAME_LOWER" ? size[i] * s : null;
            if (target is int t)
            {
                int total = full - t;
                (begin[i], end[i]) = autoPad == "SAME_UPPER" ? (total / 2, total - (total / 2)) : (total - (total / 2), total / 2);
            }
            else
            {
                (begin[i], end[i]) = autoPad == "VALID" ? (0, 0) : ((int)pads[i], (int)pads[i + 2]);
            }

            outSize[i] = full - begin[i] - end[i];
            if (outSize[i] <= 0 || (int)strides[i] <= 0 || d <= 0)
            {
                throw LinearOps.Unsupported(_node, $"a {_kernelH}×{_kernelW} transposed window on a {inH}×{inW} input gives no output");
            }
        }

        return new Window2d(_kernelH, _kernelW, (int)strides[0], (int)strides[1], (int)dilations[0], (int)dilations[1],
            begin[0], begin[1], end[0], end[1], outSize[0], outSize[1], inH, inW);
    }
}
