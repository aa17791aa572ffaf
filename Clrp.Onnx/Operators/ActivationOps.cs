using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The derivative f′(x) of an element-wise activation, written in the relevance algebra so that both interpreters
/// evaluate the same expression (gradient mode multiplies by it; relevance mode passes).
/// </summary>
internal delegate RelValue Derivative(IRelevanceAlgebra alg, RelValue x);

/// <summary>
/// Element-wise activations and no-ops. In relevance mode they pass relevance unchanged (the rule of the
/// next linear layer already accounts for them); in gradient mode they multiply by their derivative.
/// </summary>
internal static class ActivationOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("Relu", 1, 22, (n, _) => new ElementwisePassPropagator(n, static (alg, x) => alg.Binary(BinaryOp.Greater, x, Scalar(alg, 0f))));
        registry.Register("Identity", 1, 22, (n, _) => new ElementwisePassPropagator(n, null));
        registry.Register("Dropout", 1, 22, (n, _) => new ElementwisePassPropagator(n, null));
        registry.Register("BatchNormalization", 1, 22, (n, g) => new BatchNormPassPropagator(n, g));
    }

    /// <summary>A shared scalar constant.</summary>
    internal static RelValue Scalar(IRelevanceAlgebra alg, float value) => alg.Constant([value], []);
}

/// <summary>
/// <c>R_in = R_out</c> (relevance mode); <c>g_in = f'(x) · g_out</c> (gradient mode), where <c>f'</c> is
/// <paramref name="derivative"/> evaluated at the captured input (null: f' = 1, an identity).
/// Extra outputs (Dropout's mask) must have no consumers on the explained path.
/// </summary>
internal sealed class ElementwisePassPropagator(Node node, Derivative? derivative) : IOperatorPropagator
{
    public IEnumerable<string> RequiredValues => [node.Input(0)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        var result = new RelValue?[node.Inputs.Count];
        if (outputRelevance[0] is not RelValue r)
        {
            return result;
        }

        RelValue x = alg.Activation(node.Input(0));
        r = alg.Reshape(r, x.RowShape);
        result[0] = plan.Mode == PropagationMode.Relevance || derivative is null ? r : alg.Binary(BinaryOp.Multiply, r, derivative(alg, x));
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

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        var result = new RelValue?[_node.Inputs.Count];
        RelValue x = alg.Activation(_node.Input(0));
        RelValue r = alg.Reshape(outputRelevance[0]!, x.RowShape);
        if (plan.Mode == PropagationMode.Relevance)
        {
            result[0] = r;
            return result;
        }

        int[] perChannel = [_k.Length, .. Enumerable.Repeat(1, x.RowShape.Length - 1)];
        result[0] = alg.Binary(BinaryOp.Multiply, r, alg.Constant(_k, perChannel));
        return result;
    }
}
