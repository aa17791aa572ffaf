using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Geometry of a sliding window over any number of spatial axes (1-D [N,C,L], 2-D [N,C,H,W], 3-D [N,C,D,H,W]) for Conv,
/// ConvTranspose's adjoint and pools: per axis the kernel, stride, dilation, pads and input and output sizes. Output
/// position o reads input position <c>o·stride − padBegin + k·dilation</c> on each axis, for k in [0, kernel), zero
/// (or, for max pools, nothing) outside the input.
/// </summary>
internal sealed record Window(int[] Kernel, int[] Strides, int[] Dilations, int[] PadsBegin, int[] PadsEnd, int[] In, int[] Out)
{
    /// <summary>Number of spatial axes.</summary>
    public int Rank => Kernel.Length;

    /// <summary>Number of output positions per channel.</summary>
    public int OutPositions => Product(Out);

    /// <summary>Number of input positions per channel.</summary>
    public int InPositions => Product(In);

    /// <summary>Number of taps of one window.</summary>
    public int Taps => Product(Kernel);

    /// <summary>The ONNX <c>pads</c> attribute: all begins, then all ends.</summary>
    public int[] Pads => [.. PadsBegin, .. PadsEnd];

    /// <summary>
    /// Reads strides, dilations, pads, auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER) and, for pools, ceil_mode from
    /// <paramref name="node"/> with the ONNX defaults, for an input of spatial size <paramref name="inSize"/>.
    /// </summary>
    public static Window FromNode(Node node, int[] inSize, int[] kernel, bool isPool)
    {
        int rank = inSize.Length;
        NodeAttributes a = node.Attributes;
        long[] strides = a.GetInts("strides") ?? Filled(rank, 1);
        long[] dilations = a.GetInts("dilations") ?? Filled(rank, 1);
        long[] pads = a.GetInts("pads") ?? Filled(2 * rank, 0);
        string autoPad = a.GetString("auto_pad", "NOTSET");
        bool ceil = isPool && a.GetInt("ceil_mode", 0) != 0;
        if (kernel.Length != rank || strides.Length != rank || dilations.Length != rank || pads.Length != 2 * rank)
        {
            throw Unsupported(node, $"a {rank}-D input needs {rank} kernel sizes, strides and dilations and {2 * rank} pads; got kernel [{string.Join(',', kernel)}], strides [{string.Join(',', strides)}], dilations [{string.Join(',', dilations)}], pads [{string.Join(',', pads)}]");
        }

        if (strides.Any(s => s <= 0) || dilations.Any(d => d <= 0) || kernel.Any(k => k <= 0))
        {
            throw Unsupported(node, "strides, dilations and kernel sizes must be positive");
        }

        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
        {
            throw Unsupported(node, $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        }

        var begin = new int[rank];
        var end = new int[rank];
        var output = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int s = (int)strides[i], extent = ((int)dilations[i] * (kernel[i] - 1)) + 1;
            (begin[i], end[i]) = autoPad switch
            {
                "VALID" => (0, 0),
                "SAME_UPPER" or "SAME_LOWER" => SamePads(inSize[i], s, extent, autoPad == "SAME_UPPER"),
                _ => ((int)pads[i], (int)pads[i + rank]),
            };
            output[i] = OutSize(inSize[i], begin[i], end[i], extent, s, ceil);
            if (output[i] <= 0)
            {
                throw Unsupported(node, $"a {string.Join('×', kernel)} window does not fit the {string.Join('×', inSize)} input");
            }
        }

        return new Window(kernel, ToInts(strides), ToInts(dilations), begin, end, inSize, output);
    }

    /// <summary>A window covering the whole input (global pooling).</summary>
    public static Window Global(int[] inSize) =>
        new(inSize, Ones(inSize.Length), Ones(inSize.Length), new int[inSize.Length], new int[inSize.Length], inSize, Ones(inSize.Length));

    /// <summary>The N-D form of a 2-D window.</summary>
    public static Window From(Window2d w) =>
        new([w.KernelH, w.KernelW], [w.StrideH, w.StrideW], [w.DilationH, w.DilationW], [w.PadTop, w.PadLeft], [w.PadBottom, w.PadRight], [w.InH, w.InW], [w.OutH, w.OutW]);

    /// <summary>The 2-D form of a window over two spatial axes.</summary>
    public Window2d To2d() => Rank == 2
        ? new Window2d(Kernel[0], Kernel[1], Strides[0], Strides[1], Dilations[0], Dilations[1], PadsBegin[0], PadsBegin[1], PadsEnd[0], PadsEnd[1], In[0], In[1], Out[0], Out[1])
        : throw new InvalidOperationException($"a {Rank}-D window has no 2-D form.");

    /// <summary>Input position along <paramref name="axis"/> read by output position <paramref name="o"/> at tap <paramref name="k"/>.</summary>
    public int InputPosition(int axis, int o, int k) => (o * Strides[axis]) - PadsBegin[axis] + (k * Dilations[axis]);

    /// <summary>C-order multi-index of <paramref name="flat"/> over <paramref name="sizes"/>, written to <paramref name="index"/>.</summary>
    public static void Unravel(int flat, int[] sizes, Span<int> index)
    {
        for (int i = sizes.Length - 1; i >= 0; i--)
        {
            index[i] = flat % sizes[i];
            flat /= sizes[i];
        }
    }

    private static int Product(int[] sizes)
    {
        int p = 1;
        foreach (int s in sizes)
        {
            p *= s;
        }

        return p;
    }

    private static long[] Filled(int n, long value) => Enumerable.Repeat(value, n).ToArray();

    private static int[] Ones(int n) => Enumerable.Repeat(1, n).ToArray();

    private static int[] ToInts(long[] values) => Array.ConvertAll(values, v => (int)v);

    private static (int Begin, int End) SamePads(int size, int stride, int extent, bool upper)
    {
        int output = (size + stride - 1) / stride;
        int total = Math.Max(0, ((output - 1) * stride) + extent - size);
        int small = total / 2, large = total - small;
        return upper ? (small, large) : (large, small);
    }

    private static int OutSize(int size, int padBegin, int padEnd, int extent, int stride, bool ceil)
    {
        int span = size + padBegin + padEnd - extent;
        if (span < 0)
        {
            return 0;
        }

        int output = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        // With ceil_mode the last window must still start inside the input or its leading pad (as ORT and PyTorch do).
        if (ceil && (output - 1) * stride >= size + padBegin)
        {
            output--;
        }

        return output;
    }

    private static UnsupportedOperatorException Unsupported(Node node, string reason) =>
        new(node.Name, node.OpType, node.Domain, node.Opset, reason);
}
