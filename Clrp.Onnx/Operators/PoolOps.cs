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
/// Pooling over x [N, C, spatial…] with 1 (audio, ECG, text), 2 (images) or 3 (volumes, video) spatial axes, as a
/// <see cref="SparseKernel"/> over each channel's windows.
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
    private readonly int[]? _kernel;
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
            if (k is null || k.Length is < 1 or > 3)
            {
                throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"kernel_shape {(k is null ? "missing" : $"[{string.Join(',', k)}]")}; 1-D, 2-D and 3-D pools (1 to 3 kernel sizes) are supported");
            }

            _kernel = Array.ConvertAll(k, v => (int)v);
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
        int spatial = x.RowShape.Length - 1;
        if (spatial is < 1 or > 3 || (_kernel is not null && _kernel.Length != spatial))
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"input has shape {x.ShapeText} per image; a {(_kernel is null ? "global" : $"{_kernel.Length}-D")} pool expects [C,L], [C,H,W] or [C,D,H,W]{(_kernel is null ? string.Empty : " with one kernel size per spatial axis")}");
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

    /// <summary>The pool's windows over one image: per channel, output position o reads the taps inside the input.</summary>
    private SparseKernel Windows(int[] row)
    {
        int channels = row[0];
        int[] size = row[1..];
        Window win = _global ? Window.Global(size) : Window.FromNode(_node, size, _kernel!, isPool: true);
        int taps = win.Taps, rank = win.Rank;
        var index = new int[win.OutPositions * taps];
        float[]? weight = _kind == PoolKind.Average ? new float[index.Length] : null;
        Span<int> o = stackalloc int[rank];
        Span<int> k = stackalloc int[rank];
        for (int j = 0; j < win.OutPositions; j++)
        {
            Window.Unravel(j, win.Out, o);
            int inside = 0;
            for (int t = 0; t < taps; t++)
            {
                Window.Unravel(t, win.Kernel, k);
                int flat = 0;
                bool valid = true;
                for (int axis = 0; axis < rank; axis++)
                {
                    int i = win.InputPosition(axis, o[axis], k[axis]);
                    valid &= (uint)i < (uint)win.In[axis];
                    flat = (flat * win.In[axis]) + i;
                }

                index[(j * taps) + t] = valid ? flat : -1;
                inside += valid ? 1 : 0;
            }

            if (weight is not null)
            {
                float wj = inside == 0 ? 0f : 1f / (_countIncludePad ? PaddedCount(win, o) : inside);
                Array.Fill(weight, wj, j * taps, taps);
            }
        }

        // Windows that tile a plane (2×2 stride 2; a global pool is one tile): the emitted forms reshape instead of gathering.
        bool tiles = rank == 2 && Enumerable.Range(0, 2).All(a => (win.Strides[a] == win.Kernel[a] || win.Out[a] == 1) && win.Dilations[a] == 1
            && win.PadsBegin[a] == 0 && win.PadsEnd[a] == 0 && size[a] == win.Out[a] * win.Kernel[a]);
        return new SparseKernel(row, [channels, .. win.Out], channels, taps, index, weight)
        {
            Tiles = tiles ? new PlaneTiles(size[0], size[1], win.Kernel[0], win.Kernel[1]) : null,
        };
    }

    /// <summary>
    /// Window positions inside the input or its pads: what count_include_pad divides by. Equals the product of the kernel
    /// sizes except for windows that ceil_mode lets run past the end pad (ONNX Runtime and PyTorch do not count those positions).
    /// </summary>
    private static int PaddedCount(Window win, ReadOnlySpan<int> o)
    {
        int count = 1;
        for (int axis = 0; axis < win.Rank; axis++)
        {
            int along = 0;
            for (int k = 0; k < win.Kernel[axis]; k++)
            {
                int i = win.InputPosition(axis, o[axis], k);
                along += i >= -win.PadsBegin[axis] && i < win.In[axis] + win.PadsEnd[axis] ? 1 : 0;
            }

            count *= along;
        }

        return count;
    }
}
