using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Operators;

/// <summary>Pools: MaxPool/GlobalMaxPool winner-take-all; AveragePool/GlobalAveragePool proportional ("Norm").</summary>
internal static class PoolOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("MaxPool", 1, 22, (n, _) => new PoolPropagator(n, PoolKind.Max, global: false));
        registry.Register("GlobalMaxPool", 1, 22, (n, _) => new PoolPropagator(n, PoolKind.Max, global: true));
        registry.Register("AveragePool", 1, 22, (n, _) => new PoolPropagator(n, PoolKind.Average, global: false));
        registry.Register("GlobalAveragePool", 1, 22, (n, _) => new PoolPropagator(n, PoolKind.Average, global: true));
    }
}

internal enum PoolKind
{
    Max,
    Average,
}

/// <summary>
/// 2-D pooling over x [N, C, H, W], as a <see cref="SparseKernel"/> over each channel plane's windows.
/// Max (both modes): output j's relevance goes to the window elements equal to its maximum, shared equally among ties
/// (<see cref="IRelevanceAlgebra.WinnerTakeAll"/>).
/// Average, relevance mode: the composite's Norm rule, <c>R_i = Σ_j x_i w_ij / stab(Σ_i' x_i' w_i'j) · R_j</c>, <c>w_ij = 1/count_j</c>
/// (count_j includes padding only with count_include_pad); gradient mode: <c>g_i = Σ_j w_ij g_j</c>.
/// </summary>
internal sealed class PoolPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly PoolKind _kind;
    private readonly bool _global;
    private readonly int _kernelH;
    private readonly int _kernelW;
    private readonly bool _countIncludePad;
    private readonly ConcurrentDictionary<string, SparseKernel> _windows = new(StringComparer.Ordinal);

    public PoolPropagator(Node node, PoolKind kind, bool global)
    {
        _node = node;
        _kind = kind;
        _global = global;
        if (!global)
        {
            long[]? k = node.Attributes.GetInts("kernel_shape");
            if (k is null || k.Length != 2)
            {
                throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"kernel_shape {(k is null ? "missing" : $"[{string.Join(',', k)}]")}; only 2-D pools are supported yet");
            }

            _kernelH = (int)k[0];
            _kernelW = (int)k[1];
        }

        _countIncludePad = node.Attributes.GetInt("count_include_pad", 0) != 0;
        if (node.Outputs.Count > 1 && node.Outputs[1].Length > 0)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "the Indices output of MaxPool is not supported");
        }
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue x = alg.Activation(_node.Input(0));
        if (x.RowShape.Length != 3)
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"input has shape {x.ShapeText} per image; only 2-D pools over [N,C,H,W] are supported yet");
        }

        SparseKernel windows = _windows.GetOrAdd(x.ShapeText, _ => Windows(x.RowShape));
        RelValue r = alg.Reshape(outputRelevance[0]!, windows.OutputShape);
        if (_kind == PoolKind.Max)
        {
            return [alg.WinnerTakeAll(windows, x, r)];
        }

        return [plan.Mode == PropagationMode.Gradient
            ? alg.Adjoint(windows, r, null)
            : LinearRuleEngine.Propagate(alg, plan.Norm, windows, LinearLayer.ParameterFree, x, RuleInputs.None, r)];
    }

    /// <summary>The pool's windows over one image: per channel plane, output (oh, ow) reads the taps inside the input.</summary>
    private SparseKernel Windows(int[] row)
    {
        int channels = row[0], h = row[1], w = row[2];
        Window2d win = _global ? Window2d.Global(h, w) : Window2d.FromNode(_node, h, w, _kernelH, _kernelW, isPool: true);
        int taps = win.KernelH * win.KernelW;
        var index = new int[win.OutPositions * taps];
        float[]? weight = _kind == PoolKind.Average ? new float[index.Length] : null;
        for (int oh = 0; oh < win.OutH; oh++)
        {
            for (int ow = 0; ow < win.OutW; ow++)
            {
                int j = (oh * win.OutW) + ow, inside = 0;
                for (int kh = 0; kh < win.KernelH; kh++)
                {
                    int ih = (oh * win.StrideH) - win.PadTop + (kh * win.DilationH);
                    for (int kw = 0; kw < win.KernelW; kw++)
                    {
                        int iw = (ow * win.StrideW) - win.PadLeft + (kw * win.DilationW);
                        bool valid = (uint)ih < (uint)win.InH && (uint)iw < (uint)win.InW;
                        index[(j * taps) + (kh * win.KernelW) + kw] = valid ? (ih * win.InW) + iw : -1;
                        inside += valid ? 1 : 0;
                    }
                }

                if (weight is not null)
                {
                    float wj = inside == 0 ? 0f : 1f / (_countIncludePad ? PaddedCount(win, oh, ow) : inside);
                    Array.Fill(weight, wj, j * taps, taps);
                }
            }
        }

        // Windows that tile the plane (2×2 stride 2; a global pool is one tile): the emitted forms reshape instead of gathering.
        bool tiles = (win.StrideH == win.KernelH || win.OutH == 1) && (win.StrideW == win.KernelW || win.OutW == 1) && win.DilationH == 1 && win.DilationW == 1
            && win.PadTop == 0 && win.PadLeft == 0 && win.PadBottom == 0 && win.PadRight == 0
            && h == win.OutH * win.KernelH && w == win.OutW * win.KernelW;
        return new SparseKernel(row, [channels, win.OutH, win.OutW], channels, taps, index, weight)
        {
            Tiles = tiles ? new PlaneTiles(h, w, win.KernelH, win.KernelW) : null,
        };
    }

    /// <summary>
    /// Window positions inside the input or its pads: what count_include_pad divides by. Equals kH·kW except for
    /// windows that ceil_mode lets run past the end pad (ONNX Runtime and PyTorch do not count those positions).
    /// </summary>
    private static int PaddedCount(Window2d win, int oh, int ow)
    {
        int rows = 0, cols = 0;
        for (int kh = 0; kh < win.KernelH; kh++)
        {
            int ih = (oh * win.StrideH) - win.PadTop + (kh * win.DilationH);
            rows += ih >= -win.PadTop && ih < win.InH + win.PadBottom ? 1 : 0;
        }

        for (int kw = 0; kw < win.KernelW; kw++)
        {
            int iw = (ow * win.StrideW) - win.PadLeft + (kw * win.DilationW);
            cols += iw >= -win.PadLeft && iw < win.InW + win.PadRight ? 1 : 0;
        }

        return rows * cols;
    }
}
