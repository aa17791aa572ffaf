using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Element-wise activations and no-ops. In relevance mode they pass relevance unchanged (the rule of the
/// next linear layer already accounts for them); in gradient mode they multiply by their derivative.
/// </summary>
internal static class ActivationOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("Relu", 1, 22, (n, _) => new ElementwisePassPropagator(n, x => x > 0f ? 1f : 0f));
        registry.Register("Identity", 1, 22, (n, _) => new ElementwisePassPropagator(n, null));
        registry.Register("Dropout", 1, 22, (n, _) => new ElementwisePassPropagator(n, null));
        registry.Register("BatchNormalization", 1, 22, (n, g) => new BatchNormPassPropagator(n, g));
    }
}

/// <summary>
/// <c>R_in = R_out</c> (relevance mode); <c>g_in = f'(x) · g_out</c> (gradient mode), where <c>f'</c> is
/// <paramref name="derivative"/> evaluated at the captured input (null: f' = 1, an identity).
/// Extra outputs (Dropout's mask) must have no consumers on the explained path.
/// </summary>
internal sealed class ElementwisePassPropagator(Node node, Func<float, float>? derivative) : IOperatorPropagator
{
    public IEnumerable<string> RequiredValues => [node.Input(0)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        var result = new Tensor?[node.Inputs.Count];
        Tensor r = context.ShapedLike(outputRelevance[0] ?? context.ZerosLike(node.Input(0)), node.Input(0));
        if (context.Mode == PropagationMode.Relevance || derivative is null)
        {
            result[0] = r;
            return result;
        }

        Tensor x = context.Activation(node.Input(0));
        var g = context.NewTensor(r.Shape);
        int length = x.RowLength;
        for (int row = 0; row < context.Rows; row++)
        {
            ReadOnlySpan<float> xs = x.Data.AsSpan(context.RowImage[row] * length, length);
            ReadOnlySpan<float> rs = r.Data.AsSpan(row * length, length);
            Span<float> gs = g.Data.AsSpan(row * length, length);
            for (int i = 0; i < length; i++)
            {
                gs[i] = rs[i] * derivative(xs[i]);
            }
        }

        result[0] = g;
        return result;
    }
}

/// <summary>
/// A BatchNormalization that could not be folded into a linear layer (e.g. after a Concat or a residual Add):
/// relevance passes unchanged (as Zennit does; an ε rule would let the shift absorb relevance); the gradient is
/// scaled per channel by <c>k_c = γ_c/√(var_c + ε)</c>.
/// </summary>
internal sealed class BatchNormPassPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly float[] _k;

    public BatchNormPassPropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        if (node.Attributes.GetInt("training_mode", 0) != 0)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "training_mode = 1; export the model in eval mode");
        }

        float[] scale = graph.RequireConstant(node.Input(1), node, "scale").AsFloats();
        float[] variance = graph.RequireConstant(node.Input(4), node, "variance").AsFloats();
        float epsilon = node.Attributes.GetFloat("epsilon", 1e-5f);
        _k = scale.Select((g, c) => (float)(g / Math.Sqrt(variance[c] + (double)epsilon))).ToArray();
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        var result = new Tensor?[_node.Inputs.Count];
        Tensor r = context.ShapedLike(outputRelevance[0]!, _node.Input(0));
        if (context.Mode == PropagationMode.Relevance)
        {
            result[0] = r;
            return result;
        }

        int channels = r.Shape[1], inner = r.RowLength / channels;
        var g = context.NewTensor(r.Shape);
        for (int i = 0; i < r.Length; i++)
        {
            g.Data[i] = r.Data[i] * _k[(i / inner) % channels];
        }

        result[0] = g;
        return result;
    }
}
