using Clrp.Onnx.Emitting;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// The ONNX nodes of a convolution with fixed geometry (1-D, 2-D or 3-D) and its adjoint, written once for every
/// convolution kernel (the forward Conv and its transposed map, ConvTranspose layers): <c>Conv(x, W)</c> with the window's
/// explicit pads, and <c>ConvTranspose(g, W)</c> with an output_padding that restores the exact input size (floor division
/// in the forward size drops up to stride − 1 positions per axis).
/// </summary>
internal static class ConvEmission
{
    /// <summary><c>Conv(x, w)</c> of <paramref name="window"/> with <paramref name="groups"/> groups, no bias.</summary>
    public static string Conv(OnnxEmitter e, string x, string w, Window window, int groups) =>
        e.Node("Conv", [x, w],
            OnnxEmitter.Ints("kernel_shape", window.Kernel),
            OnnxEmitter.Ints("strides", window.Strides),
            OnnxEmitter.Ints("dilations", window.Dilations),
            OnnxEmitter.Ints("pads", window.Pads),
            OnnxEmitter.Int("group", groups));

    /// <summary>
    /// The adjoint of <see cref="Conv"/>, from the window's output grid back to its input grid. With stride 1 it is itself a
    /// convolution — the weights transposed per group (input and output channels swapped) and flipped in space, the pads
    /// <c>d·(k − 1) − p</c> — which ONNX Runtime runs on its fast convolution path (its ConvTranspose is a matrix product and a
    /// col2im); otherwise <c>ConvTranspose(g, w)</c>.
    /// </summary>
    public static string Adjoint(OnnxEmitter e, string g, string w, Window window, int groups, int inChannels)
    {
        int[] begin = Enumerable.Range(0, window.Rank).Select(i => (window.Dilations[i] * (window.Kernel[i] - 1)) - window.PadsBegin[i]).ToArray();
        int[] end = Enumerable.Range(0, window.Rank).Select(i => (window.Dilations[i] * (window.Kernel[i] - 1)) - window.PadsEnd[i]).ToArray();
        if (window.Strides.Any(s => s != 1) || begin.Any(p => p < 0) || end.Any(p => p < 0))
        {
            return ConvTranspose(e, g, w, window, groups);
        }

        string flipped = e.Once("flip-transpose:" + w, () => FlipTranspose(e, w, window, groups, inChannels));
        return e.Node("Conv", [g, flipped],
            OnnxEmitter.Ints("kernel_shape", window.Kernel),
            OnnxEmitter.Ints("strides", window.Strides),
            OnnxEmitter.Ints("dilations", window.Dilations),
            OnnxEmitter.Ints("pads", [.. begin, .. end]),
            OnnxEmitter.Int("group", groups));
    }

    /// <summary>
    /// W [M, C/g, k…] as the weights of the adjoint convolution, [C, M/g, k…]: per group the two channel axes swapped,
    /// and every spatial axis reversed (Gather with reversed indices: every opset has it; ONNX Runtime folds it at load).
    /// </summary>
    private static string FlipTranspose(OnnxEmitter e, string w, Window window, int groups, int inChannels)
    {
        long[] kernel = Array.ConvertAll(window.Kernel, k => (long)k);
        string grouped = e.Reshape(w, [groups, -1, inChannels / groups, .. kernel]);
        string swapped = e.Node("Transpose", [grouped], OnnxEmitter.Ints("perm", [0, 2, 1, .. Enumerable.Range(3, window.Rank)]));
        string flipped = e.Reshape(swapped, [inChannels, -1, .. kernel]);
        for (int axis = 0; axis < window.Rank; axis++)
        {
            int k = window.Kernel[axis];
            flipped = e.Node("Gather", [flipped, e.Longs(Enumerable.Range(0, k).Reverse().Select(i => (long)i).ToArray(), [k], "flip")], OnnxEmitter.Int("axis", 2 + axis));
        }

        return flipped;
    }

    /// <summary><c>ConvTranspose(g, w)</c> from the window's output grid back to its input grid.</summary>
    public static string ConvTranspose(OnnxEmitter e, string g, string w, Window window, int groups) =>
        e.Node("ConvTranspose", [g, w],
            OnnxEmitter.Ints("kernel_shape", window.Kernel),
            OnnxEmitter.Ints("strides", window.Strides),
            OnnxEmitter.Ints("dilations", window.Dilations),
            OnnxEmitter.Ints("pads", window.Pads),
            OnnxEmitter.Ints("output_padding", OutputPadding(window)),
            OnnxEmitter.Int("group", groups));

    /// <summary>
    /// Per axis, the positions the transposed convolution must add so that its output is the forward input's size:
    /// <c>in − (s·(out − 1) + d·(k − 1) + 1 − pads)</c>.
    /// </summary>
    public static int[] OutputPadding(Window w) =>
        Enumerable.Range(0, w.Rank).Select(i => w.In[i] - ((w.Strides[i] * (w.Out[i] - 1)) + (w.Dilations[i] * (w.Kernel[i] - 1)) + 1 - w.PadsBegin[i] - w.PadsEnd[i])).ToArray();

    /// <summary><c>z + b</c> per output channel of a [B, M, spatial…] value with <paramref name="spatialRank"/> spatial axes.</summary>
    public static string AddChannelBias(OnnxEmitter e, string z, float[] bias, int spatialRank = 2) =>
        e.Node("Add", [z, e.Floats(bias, [bias.Length, .. Enumerable.Repeat(1, spatialRank)], "bias")]);
}
