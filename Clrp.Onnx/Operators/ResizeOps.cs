using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>Upsample (7–9) and Resize (10–22), modes nearest and linear.</summary>
internal static class ResizeOps
{
    public static void Register(OperatorRegistry registry)
    {
        // Upsample-7: scales attribute; Upsample-9: scales input. Deprecated from opset 10.
        registry.Register("Upsample", 7, 9, (n, g) => new ResizePropagator(n, g));
        // Resize-10: scales input; 11–12: roi, scales, sizes; 13: optional roi/scales; 18: axes, antialias; 19: half_pixel_symmetric.
        registry.Register("Resize", 10, 22, (n, g) => new ResizePropagator(n, g));
    }
}

/// <summary>
/// Resize/Upsample. Nearest (routing): each output's relevance goes back to the element it copied, summed over copies;
/// the gradient routes the same way. Linear, <c>y_j = Σ_i w_ij x_i</c>: relevance in proportion to each source's
/// contribution, <c>R_i = Σ_j x_i w_ij / stab(Σ_i' x_i' w_i'j) · R_j</c> (Norm, stabiliser 1e-6); gradient <c>g_i = Σ_j w_ij g_j</c>.
/// Scales or sizes come from constants; when the graph computes them from shapes, the output is captured and the scale
/// taken as out/in.
/// </summary>
internal sealed class ResizePropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly ResizeSettings _settings;
    private readonly float[]? _scales;
    private readonly long[]? _sizes;
    private readonly long[]? _axes;
    private readonly bool _needsOutput;
    private readonly ConcurrentDictionary<string, SparseKernel> _kernels = new(StringComparer.Ordinal);

    public ResizePropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        _settings = ReadSettings(node);
        bool legacy = node.OpType == "Upsample" || node.Opset < 11;
        string scalesName = node.OpType == "Upsample" && node.Opset < 9 ? string.Empty : node.Input(legacy ? 1 : 2);
        _scales = node.OpType == "Upsample" && node.Opset < 9 ? node.Attributes.GetFloats("scales") : NonEmpty(graph, scalesName)?.AsFloats();
        _sizes = legacy ? null : NonEmpty(graph, node.Input(3))?.AsLongs();
        _axes = node.Opset >= 18 ? node.Attributes.GetInts("axes") : null;
        // Scales or sizes computed at run time (torch's F.interpolate(size=…) with dynamic shapes): read the output's shape.
        _needsOutput = _scales is null && _sizes is null;
        if (node.Opset >= 18 && node.Attributes.GetString("keep_aspect_ratio_policy", "stretch") != "stretch" && _sizes is not null)
        {
            throw Unsupported($"keep_aspect_ratio_policy '{node.Attributes.GetString("keep_aspect_ratio_policy", "stretch")}' is not supported; only 'stretch'");
        }
    }

    public IEnumerable<string> RequiredValues => _needsOutput ? [_node.Input(0), _node.Outputs[0]] : [_node.Input(0)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue x = alg.Activation(_node.Input(0));
        int[]? captured = _needsOutput ? [1, .. alg.Activation(_node.Outputs[0]).RowShape] : null;
        SparseKernel kernel = _kernels.GetOrAdd(x.ShapeText, _ =>
        {
            ResizeGeometry g = Geometry([1, .. x.RowShape], captured);
            return new SparseKernel(x.RowShape, g.OutShape[1..], g.Blocks, g.Taps, g.Index, g.Weight);
        });
        RelValue r = alg.Reshape(outputRelevance[0]!, kernel.OutputShape);
        var result = new RelValue?[_node.Inputs.Count];
        // Nearest copies (one tap of weight 1): a route in both modes. Linear: the Norm rule, or the adjoint for gradients.
        result[0] = kernel.Taps == 1 || plan.Mode == PropagationMode.Gradient
            ? alg.Adjoint(kernel, r, null)
            : LinearRuleEngine.Propagate(alg, plan.Norm, kernel, LinearLayer.ParameterFree, x, RuleInputs.None, r);
        return result;
    }

    /// <summary>Output shape and per-axis scales (given scales; out/in for sizes or a captured output), then the taps.</summary>
    private ResizeGeometry Geometry(int[] inShape, int[]? captured)
    {
        int rank = inShape.Length;
        int[] axes = _axes is null ? Enumerable.Range(0, rank).ToArray() : _axes.Select(a => RouteGeometry.NormalizeAxis(_node, a, rank)).ToArray();
        var scales = Enumerable.Repeat(1f, rank).ToArray();
        int[] outShape = (int[])inShape.Clone();
        if (captured is not null)
        {
            outShape = captured;
            for (int a = 0; a < rank; a++)
            {
                scales[a] = (float)outShape[a] / inShape[a];
            }
        }
        else
        {
            long[] given = _sizes ?? [];
            float[] factors = _scales ?? [];
            if ((_sizes is not null ? given.Length : factors.Length) != axes.Length)
            {
                throw Unsupported($"{(_sizes is not null ? "sizes" : "scales")} has {(_sizes is not null ? given.Length : factors.Length)} values for {axes.Length} axes of {Tensor.FormatShape(inShape)}");
            }

            for (int k = 0; k < axes.Length; k++)
            {
                int a = axes[k];
                // ORT truncates scale·in; with sizes the transform uses the ratio out/in.
                outShape[a] = _sizes is not null ? (int)given[k] : (int)(factors[k] * inShape[a]);
                scales[a] = _sizes is not null ? (float)outShape[a] / inShape[a] : factors[k];
            }
        }

        if (_settings.Linear && _node.Opset >= 18 && _node.Attributes.GetInt("antialias", 0) != 0 && scales.Any(s => s < 1f))
        {
            throw Unsupported("antialiased linear downsampling is not supported; only upsampling or antialias = 0");
        }

        return ResizeGeometry.Build(_node, _settings, inShape, outShape, scales);
    }

    private static ResizeSettings ReadSettings(Node node)
    {
        string mode = node.Attributes.GetString("mode", "nearest");
        bool legacy = node.OpType == "Upsample" || node.Opset < 11;
        string transform = legacy ? "asymmetric" : node.Attributes.GetString("coordinate_transformation_mode", "half_pixel");
        string nearest = legacy ? "simple" : node.Attributes.GetString("nearest_mode", "round_prefer_floor");
        if (mode is not ("nearest" or "linear" or "bilinear"))
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"mode '{mode}' is not supported (nearest and linear are; cubic is not yet)");
        }

        if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nn" or "half_pixel_symmetric"))
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"coordinate_transformation_mode '{transform}' is not supported (tf_crop_and_resize needs a region of interest)");
        }

        if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil" or "simple"))
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"nearest_mode '{nearest}' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil");
        }

        return new ResizeSettings(mode != "nearest", transform, nearest);
    }

    /// <summary>The constant named <paramref name="name"/> when it has elements; null when absent or empty (Resize-11 passes an empty scales with sizes).</summary>
    private static ConstantTensor? NonEmpty(OnnxGraph graph, string name)
    {
        if (name.Length == 0)
        {
            return null;
        }

        if (!graph.Constants.TryGetValue(name, out ConstantTensor? c))
        {
            return null;
        }

        return c.Length > 0 ? c : null;
    }

    private UnsupportedOperatorException Unsupported(string reason) => new(_node.Name, _node.OpType, _node.Domain, _node.Opset, reason);
}
