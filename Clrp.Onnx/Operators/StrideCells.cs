using Clrp.Onnx.Algebra;
using Clrp.Onnx.Kernels;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The stride-cell reading of a convolution whose kernel is smaller than its stride (ResNet's 1×1 stride-2 shortcuts):
/// such a layer is a subsampling followed by a convolution, and its rule gives relevance only to the s·j lattice of the
/// input, so relevance that passes two such layers reaches the input as a lattice of spikes. Read the subsampling as
/// the nearest-neighbour downsampling it stands for, and share each output position's relevance equally over its
/// stride cell (the s_h×s_w input positions it represents):
/// <code>
///   R′_in[c, p] = (1/|cell(j)|) · Σ_{q ∈ cell(j)} R_in[c, q]     for p ∈ cell(j),  cell(j) = [s_h·j_h, s_h·j_h + s_h) × [s_w·j_w, s_w·j_w + s_w) ∩ input
/// </code>
/// where R_in is the layer rule's own result. Each cell holds the kernel's whole window (no begin pads, no dilation,
/// kernel ≤ stride on both axes) and cells do not overlap, so the map is linear in R and conserves it exactly, per channel.
/// Applied in relevance mode only, when the composite asks for it (<see cref="Composites.Composite.SpreadStrideCells"/>).
/// </summary>
internal static class StrideCells
{
    /// <summary>
    /// Whether <paramref name="win"/> has a kernel smaller than its stride on some axis with every window inside its cell:
    /// kernel ≤ stride on both axes, one strictly smaller, dilation 1, no begin pads.
    /// </summary>
    public static bool Applies(Window2d win) =>
        win.KernelH <= win.StrideH && win.KernelW <= win.StrideW && (win.KernelH < win.StrideH || win.KernelW < win.StrideW)
        && win.DilationH == 1 && win.DilationW == 1 && win.PadTop == 0 && win.PadLeft == 0;

    /// <summary>The two tables over [C, H, W] → [C, outH, outW]: cell sums (weight 1) and cell means (weight 1/|cell|).</summary>
    public static (SparseKernel Sum, SparseKernel Mean) Kernels(int channels, Window2d win)
    {
        int taps = win.StrideH * win.StrideW;
        var index = new int[win.OutPositions * taps];
        var mean = new float[index.Length];
        for (int oh = 0; oh < win.OutH; oh++)
        {
            for (int ow = 0; ow < win.OutW; ow++)
            {
                int j = (oh * win.OutW) + ow, inside = 0;
                for (int dh = 0; dh < win.StrideH; dh++)
                {
                    for (int dw = 0; dw < win.StrideW; dw++)
                    {
                        int ih = (oh * win.StrideH) + dh, iw = (ow * win.StrideW) + dw;
                        bool valid = ih < win.InH && iw < win.InW;
                        index[(j * taps) + (dh * win.StrideW) + dw] = valid ? (ih * win.InW) + iw : -1;
                        inside += valid ? 1 : 0;
                    }
                }

                Array.Fill(mean, 1f / inside, j * taps, taps); // inside ≥ 1: the window's first position is in the input
            }
        }

        int[] input = [channels, win.InH, win.InW], output = [channels, win.OutH, win.OutW];
        return (new SparseKernel(input, output, channels, taps, index, null), new SparseKernel(input, output, channels, taps, index, mean));
    }

    /// <summary><c>R′ = Meanᵀ (Sum R)</c>: each cell's relevance shared equally over the cell.</summary>
    public static RelValue Spread(IRelevanceAlgebra alg, (SparseKernel Sum, SparseKernel Mean) kernels, RelValue relevance) =>
        alg.Adjoint(kernels.Mean, alg.Forward(kernels.Sum, relevance, null), null);
}
