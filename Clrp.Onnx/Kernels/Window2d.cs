using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Geometry of a 2-D sliding window, the form the managed reference kernel <see cref="Conv2dKernel"/> reads (the ONNX
/// Runtime kernels, pools and emitted graphs use the N-D <see cref="Window"/>): kernel, strides,
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

    /// <summary>The window of <see cref="Window.FromNode"/> for a 2-D input of inH×inW.</summary>
    public static Window2d FromNode(Node node, int inH, int inW, int kernelH, int kernelW, bool isPool) =>
        Window.FromNode(node, [inH, inW], [kernelH, kernelW], isPool).To2d();
}
