using Clrp.Onnx.Emitting;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// The ONNX nodes of a 2-D convolution with fixed geometry and its adjoint, written once for every convolution kernel
/// (the forward Conv and its transposed map, ConvTranspose layers): <c>Conv(x, W)</c> with the window's explicit pads,
/// and <c>ConvTranspose(g, W)</c> with an output_padding that restores the exact input size (floor division in the
/// forward size drops up to stride − 1 rows).
/// </summary>
internal static class ConvEmission
{
    /// <summary><c>Conv(x, w)</c> of <paramref name="window"/> with <paramref name="groups"/> groups, no bias.</summary>
    public static string Conv(OnnxEmitter e, string x, string w, Window2d window, int groups) =>
        e.Node("Conv", [x, w],
            OnnxEmitter.Ints("kernel_shape", window.KernelH, window.KernelW),
            OnnxEmitter.Ints("strides", window.StrideH, window.StrideW),
            OnnxEmitter.Ints("dilations", window.DilationH, window.DilationW),
            OnnxEmitter.Ints("pads", window.PadTop, window.PadLeft, window.PadBottom, window.PadRight),
            OnnxEmitter.Int("group", groups));

    /// <summary>
    /// The adjoint of <see cref="Conv"/>, from the window's output grid back to its input grid. With stride 1 it is itself a
    /// convolution — the weights transposed per group (input and output channels swapped) and flipped in space, the pads
    /// <c>d·(k − 1) − p</c> — which ONNX Runtime runs on its fast convolution path (its ConvTranspose is a matrix product and a
    /// col2im); otherwise <c>ConvTranspose(g, w)</c>.
    /// </summary>
    public static string Adjoint(OnnxEmitter e, string g, string w, Window2d window, int groups, int inChannels)
    {
        int padTop = (window.DilationH * (window.KernelH - 1)) - window.PadTop, padLeft = (window.DilationW * (window.KernelW - 1)) - window.PadLeft;
        int padBottom = (window.DilationH * (window.KernelH - 1)) - window.PadBottom, padRight = (window.DilationW * (window.KernelW - 1)) - window.PadRight;
        if (window.StrideH != 1 || window.StrideW != 1 || padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0)
        {
            return ConvTranspose(e, g, w, window, groups);
        }

        string flipped = e.Once("flip-transpose:" + w, () => FlipTranspose(e, w, window, groups, inChannels));
        return e.Node("Conv", [g, flipped],
            OnnxEmitter.Ints("kernel_shape", window.KernelH, window.KernelW),
            OnnxEmitter.Ints("strides", 1, 1),
            OnnxEmitter.Ints("dilations", window.DilationH, window.DilationW),
            OnnxEmitter.Ints("pads", padTop, padLeft, padBottom, padRight),
            OnnxEmitter.Int("group", groups));
    }

    /// <summary>
    /// W [M, C/g, kH, kW] as the weights of the adjoint convolution, [C, M/g, kH, kW]: per group the two channel axes swapped,
    /// and both spatial axes reversed (Gather with reversed indices: every opset has it; ONNX Runtime folds it at load).
    /// </summary>
    private static string FlipTranspose(OnnxEmitter e, string w, Window2d window, int groups, int inChannels)
    {
        int kh = window.KernelH, kw = window.KernelW;
        string grouped = e.Reshape(w, groups, -1, inChannels / groups, kh, kw);
        string swapped = e.Node("Transpose", [grouped], OnnxEmitter.Ints("perm", 0, 2, 1, 3, 4));
        string channels = e.Reshape(swapped, inChannels, -1, kh, kw);
        string rows = e.Node("Gather", [channels, e.Longs(Enumerable.Range(0, kh).Reverse().Select(i => (long)i).ToArray(), [kh], "flip")], OnnxEmitter.Int("axis", 2));
        return e.Node("Gather", [rows, e.Longs(Enumerable.Range(0, kw).Reverse().Select(i => (long)i).ToArray(), [kw], "flip")], OnnxEmitter.Int("axis", 3));
    }

    /// <summary><c>ConvTranspose(g, w)</c> from the window's output grid back to its input grid.</summary>
    public static string ConvTranspose(OnnxEmitter e, string g, string w, Window2d window, int groups)
    {
        (int extraH, int extraW) = OutputPadding(window);
        return e.Node("ConvTranspose", [g, w],
            OnnxEmitter.Ints("kernel_shape", window.KernelH, window.KernelW),
            OnnxEmitter.Ints("strides", window.StrideH, window.StrideW),
            OnnxEmitter.Ints("dilations", window.DilationH, window.DilationW),
            OnnxEmitter.Ints("pads", window.PadTop, window.PadLeft, window.PadBottom, window.PadRight),
            OnnxEmitter.Ints("output_padding", extraH, extraW),
            OnnxEmitter.Int("group", groups));
    }

    /// <summary>
    /// The rows and columns the transposed convolution must add so that its output is the forward input's size:
    /// <c>in − (s·(out − 1) + d·(k − 1) + 1 − pads)</c>.
    /// </summary>
    public static (int H, int W) OutputPadding(Window2d w) =>
        (w.InH - ((w.StrideH * (w.OutH - 1)) + (w.DilationH * (w.KernelH - 1)) + 1 - w.PadTop - w.PadBottom),
         w.InW - ((w.StrideW * (w.OutW - 1)) + (w.DilationW * (w.KernelW - 1)) + 1 - w.PadLeft - w.PadRight));

    /// <summary><c>z + b</c> per output channel of a [B, M, H, W] value.</summary>
    public static string AddChannelBias(OnnxEmitter e, string z, float[] bias) =>
        e.Node("Add", [z, e.Floats(bias, [bias.Length, 1, 1], "bias")]);
}
