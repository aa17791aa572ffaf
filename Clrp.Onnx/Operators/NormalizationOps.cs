using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Normalisations by the activation's own statistics: LayerNormalization (17–22, any axis ≥ 1), InstanceNormalization (6–22),
/// GroupNormalization (18–20: scale and bias per group; 21–22: per channel). The relevance rule is the LN-rule of Ali et al.
/// 2022 ("XAI for Transformers: Better Explanations through Conservative Propagation", ICML; LXT, Achtibat et al. 2024,
/// detaches σ the same way): 1/σ is frozen at its forward value, and here the mean μ too, so <c>y = γ·(x − μ)/σ + β</c>
/// becomes an element-wise affine map of x with constant scale <c>γ/σ</c> and constant shift <c>β − γμ/σ</c>. Relevance then
/// passes element by element, <c>R_x = R_y</c> (identity through the centering), exactly as for BatchNormalization and
/// Add/Mul by a constant in this library; this conserves exactly. (With μ left live, the gradient×input reading, the
/// centering is the linear map <c>I − 11ᵀ/N</c> and its z-rule divides by <c>x_j − μ</c>, which vanishes for every element
/// near the mean and spreads every output's relevance over the whole group with both signs; we do not do that.)
/// Gradient: the true derivative, statistics live: with <c>n = (x − μ)/σ</c>, <c>h = γ·g</c> and means over each group,
/// <c>g_x = (h − mean(h) − n·mean(h·n))/σ</c>.
/// </summary>
internal static class NormalizationOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("LayerNormalization", 17, 22, (n, g) => StatisticsNormPropagator.LayerNorm(n, g));
        registry.Register("InstanceNormalization", 6, 22, (n, g) => StatisticsNormPropagator.InstanceNorm(n, g));
        registry.Register("GroupNormalization", 18, 22, (n, g) => StatisticsNormPropagator.GroupNorm(n, g));
        L2NormalizePropagator.Register(registry);
    }
}

/// <summary>
/// The propagator of <see cref="NormalizationOps"/>: the row is viewed as [groups…, group elements…] by
/// <c>layout(rowShape)</c> (the grouped shape and the axes reduced), the per-element scale γ by <c>scale(rowShape)</c>.
/// </summary>
internal sealed class StatisticsNormPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly float _epsilon;
    private readonly Func<int[], (int[] Grouped, int[] Axes)> _layout;
    private readonly Func<int[], (float[] Values, int[] RowShape)?> _scale;

    private StatisticsNormPropagator(Node node, OnnxGraph graph, Func<int[], (int[] Grouped, int[] Axes)> layout, Func<int[], (float[] Values, int[] RowShape)?> scale)
    {
        _node = node;
        _epsilon = node.Attributes.GetFloat("epsilon", 1e-5f);
        _layout = layout;
        _scale = scale;
        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (string statistic in node.Outputs.Skip(1).Where(o => o.Length > 0))
        {
            if (graph.Consumers(statistic).Count > 0 || graphOutputs.Contains(statistic))
            {
                throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"its statistic output '{statistic}' is read; only the normalised output Y may be used");
            }
        }
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    /// <summary>LayerNormalization: groups are the axes before <c>axis</c>, scale γ of shape X.shape[axis:] (absent for the fused exporter form: 1).</summary>
    public static StatisticsNormPropagator LayerNorm(Node node, OnnxGraph graph)
    {
        long axis = node.Attributes.GetInt("axis", -1);
        long[]? fusedAxes = node.Attributes.GetInts(Canonizers.FuseLayerNorm.FusedAxes);
        float[]? gamma = node.Input(1).Length == 0 ? null : graph.RequireConstant(node.Input(1), node, "scale").AsFloats();
        int[]? gammaShape = node.Input(1).Length == 0 ? null : graph.Constants[node.Input(1)].Shape;
        return new StatisticsNormPropagator(node, graph, row =>
        {
            int rank = row.Length + 1;
            if (fusedAxes is not null)
            {
                // The exporter's decomposed form (FuseLayerNorm): the ReduceMean axes as written.
                int[] reduced = [.. fusedAxes.Select(a => (int)(a < 0 ? a + rank : a) - 1).Distinct().Order()];
                return reduced.All(a => a >= 0 && a < rank - 1) ? (row, reduced)
                    : throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"the normalised axes [{string.Join(", ", fusedAxes)}] of a rank-{rank} input include the batch axis or are out of range");
            }

            long first = axis < 0 ? axis + rank : axis;
            if (first < 1 || first >= rank)
            {
                throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"axis {axis} of a rank-{rank} input {(first == 0 ? "normalises across the batch" : "is out of range")}; axes 1…{rank - 1} are supported");
            }

            return (row, Enumerable.Range((int)first - 1, rank - (int)first).ToArray());
        }, _ => gamma is null ? null : (gamma, gammaShape!));
    }

    /// <summary>InstanceNormalization: X [N, C, spatial…], one group per channel, γ [C].</summary>
    public static StatisticsNormPropagator InstanceNorm(Node node, OnnxGraph graph)
    {
        float[] gamma = graph.RequireConstant(node.Input(1), node, "scale").AsFloats();
        return new StatisticsNormPropagator(node, graph, row =>
        {
            RequireSpatial(node, row);
            return (row, Enumerable.Range(1, row.Length - 1).ToArray());
        }, row => (gamma, ChannelShape(row)));
    }

    /// <summary>GroupNormalization: X [N, C, spatial…] in num_groups groups of C/G channels; γ per group (opset 18) or per channel (21).</summary>
    public static StatisticsNormPropagator GroupNorm(Node node, OnnxGraph graph)
    {
        int groups = (int)node.Attributes.GetInt("num_groups", 0);
        float[] gamma = graph.RequireConstant(node.Input(1), node, "scale").AsFloats();
        if (groups <= 0)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "the required attribute 'num_groups' is missing or not positive");
        }

        return new StatisticsNormPropagator(node, graph, row =>
        {
            RequireSpatial(node, row);
            if (row[0] % groups != 0)
            {
                throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"{row[0]} channels do not split into {groups} groups");
            }

            return ([groups, row.Aggregate(1, (a, b) => a * b) / groups], [1]);
        }, row =>
        {
            int channels = row[0], perGroup = channels / groups;
            float[] perChannel = node.Opset >= 21 ? gamma : Enumerable.Range(0, channels).Select(c => gamma[c / perGroup]).ToArray();
            if (perChannel.Length != channels)
            {
                throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"scale has {gamma.Length} values; {(node.Opset >= 21 ? channels : groups)} expected");
            }

            return (perChannel, ChannelShape(row));
        });
    }

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        var result = new RelValue?[_node.Inputs.Count];
        RelValue x = alg.Activation(_node.Input(0));
        RelValue r = alg.Reshape(outputRelevance[0]!, x.RowShape);
        (int[] grouped, int[] axes) = _layout(x.RowShape);
        if (plan.Mode == PropagationMode.Relevance)
        {
            // LN-rule: μ and σ frozen, an element-wise affine map; relevance passes (see the class comment).
            result[0] = r;
            return result;
        }

        if (_scale(x.RowShape) is (float[] values, int[] shape))
        {
            r = alg.Binary(BinaryOp.Multiply, r, alg.Constant(values, shape));
        }

        int count = axes.Aggregate(1, (a, i) => a * grouped[i]);
        RelValue S(float v) => ActivationOps.Scalar(alg, v);
        RelValue Mean(RelValue v) => alg.Binary(BinaryOp.Multiply, alg.Reduce(ReduceOp.Sum, v, axes), S(1f / count));
        RelValue xg = alg.Reshape(x, grouped), h = alg.Reshape(r, grouped);
        RelValue centred = alg.Binary(BinaryOp.Subtract, xg, Mean(xg));
        RelValue inverseStd = alg.Binary(BinaryOp.Power, alg.Binary(BinaryOp.Add, Mean(alg.Binary(BinaryOp.Multiply, centred, centred)), S(_epsilon)), S(-0.5f));
        RelValue n = alg.Binary(BinaryOp.Multiply, centred, inverseStd);
        RelValue inner = alg.Binary(BinaryOp.Subtract, alg.Binary(BinaryOp.Subtract, h, Mean(h)), alg.Binary(BinaryOp.Multiply, n, Mean(alg.Binary(BinaryOp.Multiply, h, n))));
        result[0] = alg.Reshape(alg.Binary(BinaryOp.Multiply, inner, inverseStd), x.RowShape);
        return result;
    }

    private static int[] ChannelShape(int[] row) => [row[0], .. Enumerable.Repeat(1, row.Length - 1)];

    private static void RequireSpatial(Node node, int[] row)
    {
        if (row.Length < 2)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"the input {Tensor.FormatShape(row)} per image has no spatial axes; [C, spatial…] expected");
        }
    }
}

/// <summary>
/// Division of an activation by its own L2 norm: <c>y = x/d</c>, <c>q = √(Σ_A x² + ε_in)</c> over the axes A, d = q followed by
/// the steps <c>d + c</c> and <c>max(d, c)</c> (eps guards as exporters write them; <see cref="Canonizers.FuseL2Normalize"/>),
/// and ONNX LpNormalization with p = 2 (1–22, one axis, no guard). Relevance: the norm is frozen at its forward value, as the
/// LN-rule freezes σ (Ali et al. 2022), so y is x times a constant per group and relevance passes, <c>R_x = R_y</c> (exactly
/// conservative). Gradient, the true derivative: <c>g_x = g/d − x·Σ_A(g·x)·d′/(q·d²)</c> with <c>d′ = ∂d/∂q</c> = Π of the
/// floors' gates (1 where the guard is not active, 0 where it clamps).
/// </summary>
internal sealed class L2NormalizePropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly long[] _axes;
    private readonly float _innerEpsilon;
    private readonly long[] _stepKinds;
    private readonly float[] _stepValues;

    private L2NormalizePropagator(Node node, long[] axes, float innerEpsilon, long[] stepKinds, float[] stepValues)
    {
        _node = node;
        _axes = axes;
        _innerEpsilon = innerEpsilon;
        _stepKinds = stepKinds;
        _stepValues = stepValues;
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public static void Register(OperatorRegistry registry)
    {
        registry.Register(Canonizers.L2NormalizeOp.OpType, 1, 1, (n, _) => new L2NormalizePropagator(n, n.Attributes.GetInts("axes")!, n.Attributes.GetFloat("inner_epsilon", 0f),
            n.Attributes.GetInts("step_kinds", [])!, n.Attributes.GetFloats("step_values", [])!), Canonizers.L2NormalizeOp.Domain);
        registry.Register("LpNormalization", 1, 22, (n, _) =>
        {
            long p = n.Attributes.GetInt("p", 2);
            return p == 2 ? new L2NormalizePropagator(n, [n.Attributes.GetInt("axis", -1)], 0f, [], [])
                : throw new UnsupportedOperatorException(n.Name, n.OpType, n.Domain, n.Opset, $"p = {p}; only the L2 norm (p = 2) is supported");
        });
    }

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        var result = new RelValue?[_node.Inputs.Count];
        RelValue x = alg.Activation(_node.Input(0));
        RelValue g = alg.Reshape(outputRelevance[0]!, x.RowShape);
        int rank = x.RowShape.Length + 1;
        int[] axes = _axes.Select(a => (int)(a < 0 ? a + rank : a) - 1).ToArray();
        if (axes.Any(a => a < 0 || a >= rank - 1))
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"axes [{string.Join(", ", _axes)}] of a rank-{rank} input include the batch axis or are out of range");
        }

        if (plan.Mode == PropagationMode.Relevance)
        {
            result[0] = g;
            return result;
        }

        RelValue S(float v) => ActivationOps.Scalar(alg, v);
        RelValue q = alg.Binary(BinaryOp.Power, alg.Binary(BinaryOp.Add, alg.Reduce(ReduceOp.Sum, alg.Binary(BinaryOp.Multiply, x, x), axes), S(_innerEpsilon)), S(0.5f));
        RelValue d = q, slope = S(1f);
        for (int i = 0; i < _stepKinds.Length; i++)
        {
            if (_stepKinds[i] == Canonizers.L2NormalizeOp.AddConstant)
            {
                d = alg.Binary(BinaryOp.Add, d, S(_stepValues[i]));
            }
            else
            {
                slope = alg.Binary(BinaryOp.Multiply, slope, alg.Binary(BinaryOp.Greater, d, S(_stepValues[i])));
                d = alg.Where(alg.Binary(BinaryOp.Greater, d, S(_stepValues[i])), d, S(_stepValues[i]));
            }
        }

        RelValue projection = alg.Reduce(ReduceOp.Sum, alg.Binary(BinaryOp.Multiply, g, x), axes);
        RelValue correction = alg.Binary(BinaryOp.Divide, alg.Binary(BinaryOp.Multiply, projection, slope), alg.Binary(BinaryOp.Multiply, q, alg.Binary(BinaryOp.Multiply, d, d)));
        result[0] = alg.Binary(BinaryOp.Subtract, alg.Binary(BinaryOp.Divide, g, d), alg.Binary(BinaryOp.Multiply, x, correction));
        return result;
    }
}
