using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;

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
/// 2-D pooling over x [N, C, H, W].
/// Max (both modes): output j's relevance goes to the window elements equal to its maximum, shared equally among ties.
/// Average, relevance mode ("Norm", stabiliser 1e-6): <c>R_i = Σ_j x_i w_ij / stab(Σ_i' x_i' w_i'j) · R_j</c>, <c>w_ij = 1/count_j</c>
/// (count_j includes padding only with count_include_pad); gradient mode: <c>g_i = Σ_j w_ij g_j</c>.
/// </summary>
internal sealed class PoolPropagator : IOperatorPropagator
{
    private const float NormStabilizer = 1e-6f;
    private readonly Node _node;
    private readonly PoolKind _kind;
    private readonly bool _global;
    private readonly int _kernelH;
    private readonly int _kernelW;
    private readonly bool _countIncludePad;

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

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        Tensor x = context.Activation(_node.Input(0));
        if (x.Rank != 4)
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"input has shape {x.ShapeText}; only 2-D pools over [N,C,H,W] are supported yet");
        }

        int channels = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        Window2d win = _global ? Window2d.Global(h, w) : Window2d.FromNode(_node, h, w, _kernelH, _kernelW, isPool: true);
        Tensor r = outputRelevance[0]!;
        var result = context.NewTensor([context.Rows, channels, h, w]);
        int inPlane = h * w, outPlane = win.OutPositions;
        if (r.Length != context.Rows * channels * outPlane)
        {
            throw new InvalidOperationException($"{_node}: relevance has {r.Length} elements, expected {context.Rows * channels * outPlane}.");
        }

        Parallel.For(0, context.Rows * channels, rc =>
        {
            int row = rc / channels, c = rc % channels;
            ReadOnlySpan<float> xs = x.Data.AsSpan(((context.RowImage[row] * channels) + c) * inPlane, inPlane);
            ReadOnlySpan<float> rs = r.Data.AsSpan(rc * outPlane, outPlane);
            Span<float> dest = result.Data.AsSpan(rc * inPlane, inPlane);
            for (int oh = 0; oh < win.OutH; oh++)
            {
                for (int ow = 0; ow < win.OutW; ow++)
                {
                    float rj = rs[(oh * win.OutW) + ow];
                    if (rj != 0f)
                    {
                        if (_kind == PoolKind.Max)
                        {
                            DistributeMax(win, xs, dest, oh, ow, rj);
                        }
                        else
                        {
                            DistributeAverage(win, xs, dest, oh, ow, rj, context.Mode);
                        }
                    }
                }
            }
        });

        return [result];
    }

    private static void DistributeMax(Window2d win, ReadOnlySpan<float> xs, Span<float> dest, int oh, int ow, float rj)
    {
        float max = float.NegativeInfinity;
        int ties = 0;
        for (int kh = 0; kh < win.KernelH; kh++)
        {
            int ih = (oh * win.StrideH) - win.PadTop + (kh * win.DilationH);
            for (int kw = 0; kw < win.KernelW; kw++)
            {
                int iw = (ow * win.StrideW) - win.PadLeft + (kw * win.DilationW);
                if ((uint)ih < (uint)win.InH && (uint)iw < (uint)win.InW)
                {
                    float v = xs[(ih * win.InW) + iw];
                    if (v > max)
                    {
                        max = v;
                        ties = 1;
                    }
                    else if (v == max)
                    {
                        ties++;
                    }
                }
            }
        }

        if (ties == 0)
        {
            return;
        }

        float share = rj / ties;
        for (int kh = 0; kh < win.KernelH; kh++)
        {
            int ih = (oh * win.StrideH) - win.PadTop + (kh * win.DilationH);
            for (int kw = 0; kw < win.KernelW; kw++)
            {
                int iw = (ow * win.StrideW) - win.PadLeft + (kw * win.DilationW);
                if ((uint)ih < (uint)win.InH && (uint)iw < (uint)win.InW && xs[(ih * win.InW) + iw] == max)
                {
                    dest[(ih * win.InW) + iw] += share;
                }
            }
        }
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

    private void DistributeAverage(Window2d win, ReadOnlySpan<float> xs, Span<float> dest, int oh, int ow, float rj, PropagationMode mode)
    {
        int inside = 0;
        float sum = 0f;
        for (int kh = 0; kh < win.KernelH; kh++)
        {
            int ih = (oh * win.StrideH) - win.PadTop + (kh * win.DilationH);
            for (int kw = 0; kw < win.KernelW; kw++)
            {
                int iw = (ow * win.StrideW) - win.PadLeft + (kw * win.DilationW);
                if ((uint)ih < (uint)win.InH && (uint)iw < (uint)win.InW)
                {
                    inside++;
                    sum += xs[(ih * win.InW) + iw];
                }
            }
        }

        if (inside == 0)
        {
            return;
        }

        float weight = 1f / (_countIncludePad ? PaddedCount(win, oh, ow) : inside);
        // Relevance: x_i·w / stab(Σ x·w) · R_j; gradient: w · g_j.
        float factor = mode == PropagationMode.Gradient ? weight * rj : rj / Rules.LinearRuleEngine.Stabilize(sum * weight, NormStabilizer) * weight;
        for (int kh = 0; kh < win.KernelH; kh++)
        {
            int ih = (oh * win.StrideH) - win.PadTop + (kh * win.DilationH);
            for (int kw = 0; kw < win.KernelW; kw++)
            {
                int iw = (ow * win.StrideW) - win.PadLeft + (kw * win.DilationW);
                if ((uint)ih < (uint)win.InH && (uint)iw < (uint)win.InW)
                {
                    int i = (ih * win.InW) + iw;
                    dest[i] += mode == PropagationMode.Gradient ? factor : xs[i] * factor;
                }
            }
        }
    }
}
