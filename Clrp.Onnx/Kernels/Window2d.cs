using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Geometry of a 2-D sliding window (Conv, ConvTranspose's adjoint, pools): kernel, strides,
/// dilations, pads, and the input and output sizes. Output position (oh, ow) reads input rows
/// <c>oh·strideH − padTop + kh·dilationH</c> for kh in [0, kernelH), likewise columns.
/// </summary>
internal sealed record Window2d(
    int KernelH, int KernelW, int StrideH, int StrideW, int DilationH, int DilationW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, int InH, int InW, int OutH, int OutW)
{
    /// <summary>Number of output positions per channel.</summary>
    public int OutPositions => OutH * OutW;

    /// <summary>Number of input positions per channel.</summary>
    public int InPositions => InH * InW;

    /// <summary>
    /// Reads strides, dilations, pads, auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER) and, for pools,
    /// ceil_mode from <paramref name="node"/> with the ONNX defaults, for an input of inH×inW.
    /// </summary>
    public static Window2d FromNode(Node node, int inH, int inW, int kernelH, int kernelW, bool isPool)
    {
        NodeAttributes a = node.Attributes;
        long[] strides = a.GetInts("strides") ?? [1, 1];
        long[] dilations = a.GetInts("dilations") ?? [1, 1];
        long[] pads = a.GetInts("pads") ?? [0, 0, 0, 0];
        string autoPad = a.GetString("auto_pad", "NOTSET");
        bool ceil = isPool && a.GetInt("ceil_mode", 0) != 0;
        if (strides.Length != 2 || dilations.Length != 2 || pads.Length != 4)
        {
            throw Unsupported(node, $"expected 2-D strides/dilations and 4 pads, got strides [{string.Join(',', strides)}], dilations [{string.Join(',', dilations)}], pads [{string.Join(',', pads)}] (1-D and 3-D windows are not supported yet)");
        }

        int sH = (int)strides[0], sW = (int)strides[1], dH = (int)dilations[0], dW = (int)dilations[1];
        if (sH <= 0 || sW <= 0 || dH <= 0 || dW <= 0 || kernelH <= 0 || kernelW <= 0)
        {
            throw Unsupported(node, "strides, dilations and kernel sizes must be positive");
        }

        int pt = (int)pads[0], pl = (int)pads[1], pb = (int)pads[2], pr = (int)pads[3];
        int extentH = (dH * (kernelH - 1)) + 1, extentW = (dW * (kernelW - 1)) + 1;
        switch (autoPad)
        {
            case "NOTSET":
                break;
            case "VALID":
                pt = pl = pb = pr = 0;
                break;
            case "SAME_UPPER":
            case "SAME_LOWER":
                (pt, pb) = SamePads(inH, sH, extentH, autoPad == "SAME_UPPER");
                (pl, pr) = SamePads(inW, sW, extentW, autoPad == "SAME_UPPER");
                break;
            default:
                throw Unsupported(node, $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        }

        int outH = OutSize(inH, pt, pb, extentH, sH, ceil);
        int outW = OutSize(inW, pl, pr, extentW, sW, ceil);
        if (outH <= 0 || outW <= 0)
        {
            throw Unsupported(node, $"a {kernelH}×{kernelW} window does not fit the {inH}×{inW} input");
        }

        return new Window2d(kernelH, kernelW, sH, sW, dH, dW, pt, pl, pb, pr, inH, inW, outH, outW);
    }

    /// <summary>A window covering the whole input (global pooling).</summary>
    public static Window2d Global(int inH, int inW) => new(inH, inW, 1, 1, 1, 1, 0, 0, 0, 0, inH, inW, 1, 1);

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
