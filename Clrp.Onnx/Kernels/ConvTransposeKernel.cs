using System.Runtime.CompilerServices;
using Clrp.Onnx.Emitting;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Transposed convolution over 1, 2 or 3 spatial axes (ONNX ConvTranspose) with groups, strides, dilations and pads:
/// <c>y[b, o, i·s − p + k·d] += Σ_c x[b, c, i] · W[c, o, k]</c> (W in ONNX layout [C_in, C_out/group, k…]).
/// It is the adjoint of the convolution that reads y with those weights, so <see cref="Forward"/> is that convolution's
/// input gradient and <see cref="InputGradient"/> is that convolution (an <see cref="OrtConvKernel"/> over the output
/// grid, so both run on ONNX Runtime like every other convolution of the walk).
/// The weights the rules see are output-major, [C_out, C_in/group, k…], so that row o is output channel o (its bias,
/// CLRP2's negated unit); they are rearranged to ONNX layout once per weight set and cached.
/// </summary>
internal sealed class ConvTransposeKernel : ILinearKernel, IDisposable
{
    private readonly OrtConvKernel _adjoint;
    private readonly int _inChannels;
    private readonly int _outChannels;
    private readonly int _groups;
    private readonly ConditionalWeakTable<LinearWeights, LinearWeights> _onnxLayout = new();

    /// <param name="inChannels">C_in.</param>
    /// <param name="outChannels">C_out.</param>
    /// <param name="groups">group.</param>
    /// <param name="window">The window of the adjoint convolution: its input is this layer's output (the output grid), its output this layer's input (the input grid).</param>
    public ConvTransposeKernel(int inChannels, int outChannels, int groups, Window window)
    {
        _inChannels = inChannels;
        _outChannels = outChannels;
        _groups = groups;
        _adjoint = new OrtConvKernel(outChannels, inChannels, groups, window);
        InputShape = [inChannels, .. window.Out];
        OutputShape = [outChannels, .. window.In];
    }

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    public Tensor Forward(Tensor x, LinearWeights? weights, BufferPool? pool = null) => _adjoint.InputGradient(x, OnnxLayout(OrtConvKernel.Required(weights)), pool);

    public Tensor InputGradient(Tensor g, LinearWeights? weights, BufferPool? pool = null) => _adjoint.Forward(g, OnnxLayout(OrtConvKernel.Required(weights)), pool);

    /// <summary>ConvTranspose(x, W) is the adjoint of the convolution over its output grid; W in ONNX layout serves both.</summary>
    public string EmitForward(OnnxEmitter emitter, string x, EmittedWeights? weights) => _adjoint.EmitAdjoint(emitter, x, weights);

    public string EmitAdjoint(OnnxEmitter emitter, string g, EmittedWeights? weights) => _adjoint.EmitForward(emitter, g, weights);

    public string EmitAddBias(OnnxEmitter emitter, string z, float[] bias) => ConvEmission.AddChannelBias(emitter, z, bias, OutputShape.Length - 1);

    /// <summary>ONNX ConvTranspose layout [C_in, C_out/group, k…].</summary>
    public (float[] Values, int[] Shape) OnnxWeights(LinearWeights weights)
    {
        LinearWeights onnx = OnnxLayout(weights);
        (_, int[] shape) = _adjoint.OnnxWeights(onnx);
        return (onnx.Values, shape);
    }

    public void AddBias(Tensor z, float[] bias)
    {
        int positions = OutputShape.Skip(1).Aggregate(1, (p, d) => p * d);
        for (int b = 0; b < z.Shape[0]; b++)
        {
            for (int o = 0; o < _outChannels; o++)
            {
                z.Data.AsSpan(((b * _outChannels) + o) * positions, positions).Add(bias[o]);
            }
        }
    }

    /// <summary>Releases the adjoint convolution's ONNX Runtime sessions.</summary>
    public void Dispose() => _adjoint.Dispose();

    /// <summary>Output-major [C_out, C_in/g, k] → ONNX [C_in, C_out/g, k], per group.</summary>
    internal static float[] ToOnnxLayout(float[] outputMajor, int inChannels, int outChannels, int groups)
    {
        int inPerGroup = inChannels / groups, outPerGroup = outChannels / groups;
        int window = outputMajor.Length / (outChannels * inPerGroup);
        var onnx = new float[outputMajor.Length];
        for (int g = 0; g < groups; g++)
        {
            for (int o = 0; o < outPerGroup; o++)
            {
                for (int c = 0; c < inPerGroup; c++)
                {
                    int from = ((((g * outPerGroup) + o) * inPerGroup) + c) * window;
                    int to = ((((g * inPerGroup) + c) * outPerGroup) + o) * window;
                    outputMajor.AsSpan(from, window).CopyTo(onnx.AsSpan(to, window));
                }
            }
        }

        return onnx;
    }

    /// <summary>ONNX [C_in, C_out/g, k] → output-major [C_out, C_in/g, k], per group (the inverse of <see cref="ToOnnxLayout"/>).</summary>
    internal static float[] ToOutputMajor(float[] onnx, int inChannels, int outChannels, int groups)
    {
        int inPerGroup = inChannels / groups, outPerGroup = outChannels / groups;
        int window = onnx.Length / (inChannels * outPerGroup);
        var outputMajor = new float[onnx.Length];
        for (int g = 0; g < groups; g++)
        {
            for (int c = 0; c < inPerGroup; c++)
            {
                for (int o = 0; o < outPerGroup; o++)
                {
                    int from = ((((g * inPerGroup) + c) * outPerGroup) + o) * window;
                    int to = ((((g * outPerGroup) + o) * inPerGroup) + c) * window;
                    onnx.AsSpan(from, window).CopyTo(outputMajor.AsSpan(to, window));
                }
            }
        }

        return outputMajor;
    }

    private LinearWeights OnnxLayout(LinearWeights weights) =>
        _onnxLayout.GetValue(weights, w => new LinearWeights(ToOnnxLayout(w.Values, _inChannels, _outChannels, _groups), _inChannels, _groups));
}
