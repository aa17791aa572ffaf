using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Element-wise activations beyond ReLU (DESIGN §1: pass-through). Relevance passes unchanged, <c>R_x = R_y</c>;
/// the gradient multiplies by the derivative at the captured input, <c>g_x = f'(x)·g_y</c>:
/// LeakyRelu <c>x &gt; 0 ? 1 : α</c>, Elu <c>x &gt; 0 ? 1 : α·eˣ</c>, Selu <c>γ·(x &gt; 0 ? 1 : α·eˣ)</c>, Sigmoid <c>σ(1 − σ)</c>,
/// HardSigmoid <c>α</c> inside (0, 1), HardSwish <c>(2x + 3)/6</c> on (−3, 3), Tanh <c>1 − tanh²</c>, Softplus <c>σ(x)</c>,
/// Clip <c>1</c> strictly inside (min, max) (as Relu uses x &gt; 0), Cast to float32 <c>1</c>.
/// </summary>
internal static class ElementwiseOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("LeakyRelu", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 0.01f);
            return Pass(n, x => x > 0f ? 1f : alpha);
        });
        registry.Register("Elu", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 1f);
            return Pass(n, x => x > 0f ? 1f : alpha * MathF.Exp(x));
        });
        registry.Register("Selu", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 1.67326319217681884765625f), gamma = n.Attributes.GetFloat("gamma", 1.05070102214813232421875f);
            return Pass(n, x => x > 0f ? gamma : gamma * alpha * MathF.Exp(x));
        });
        registry.Register("Sigmoid", 6, 22, (n, _) => Pass(n, x => Sigmoid(x) * (1f - Sigmoid(x))));
        registry.Register("HardSigmoid", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 0.2f), beta = n.Attributes.GetFloat("beta", 0.5f);
            return Pass(n, x => (alpha * x) + beta is > 0f and < 1f ? alpha : 0f);
        });
        registry.Register("HardSwish", 14, 22, (n, _) => Pass(n, x => x <= -3f ? 0f : x >= 3f ? 1f : ((2f * x) + 3f) / 6f));
        registry.Register("Tanh", 6, 22, (n, _) => Pass(n, x => 1f - (MathF.Tanh(x) * MathF.Tanh(x))));
        registry.Register("Softplus", 1, 22, (n, _) => Pass(n, Sigmoid));
        registry.Register("Clip", 6, 22, CreateClip);
        registry.Register("Cast", 6, 22, CreateCast);
        registry.Register("PRelu", 7, 22, (n, g) => new PReluPropagator(n, g));
    }

    private static ElementwisePassPropagator Pass(Node node, Func<float, float>? derivative) => new(node, derivative);

    private static float Alpha(Node node, float defaultValue) => node.Attributes.GetFloat("alpha", defaultValue);

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>Clip: bounds from the attributes (opsets 6–10) or from constant inputs 1 and 2 (11+), absent = unbounded.</summary>
    private static IOperatorPropagator CreateClip(Node node, OnnxGraph graph)
    {
        float min = node.Opset < 11 ? node.Attributes.GetFloat("min", float.NegativeInfinity) : Bound(node, graph, 1, float.NegativeInfinity);
        float max = node.Opset < 11 ? node.Attributes.GetFloat("max", float.PositiveInfinity) : Bound(node, graph, 2, float.PositiveInfinity);
        return Pass(node, x => x > min && x < max ? 1f : 0f);
    }

    private static float Bound(Node node, OnnxGraph graph, int index, float absent)
    {
        string name = node.Input(index);
        if (name.Length == 0)
        {
            return absent;
        }

        ConstantTensor c = graph.RequireConstant(name, node, index == 1 ? "min" : "max");
        return c.Length == 1 ? c.AsFloats()[0] : throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"its bound '{name}' has shape {Tensor.FormatShape(c.Shape)}; Clip takes scalars");
    }

    /// <summary>Cast on the explained path must stay float32: the walk reads every value it passes as float32.</summary>
    private static IOperatorPropagator CreateCast(Node node, OnnxGraph graph)
    {
        _ = graph;
        long to = node.Attributes.GetInt("to", 0);
        if (to != ValueInfo.Float)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset,
                $"it casts an activation to element type {to}; on the explained path only casts to float32 (1) are supported");
        }

        return Pass(node, null);
    }
}

/// <summary>
/// PRelu <c>y = x &gt; 0 ? x : slope·x</c> with a constant slope broadcast to x (per channel [C,1,1] or shared [1]).
/// Relevance passes; gradient <c>g_x = (x &gt; 0 ? 1 : slope)·g_y</c>.
/// </summary>
internal sealed class PReluPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly ConstantTensor _slope;

    public PReluPropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        _slope = graph.RequireConstant(node.Input(1), node, "slope");
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        Tensor x = context.Activation(_node.Input(0));
        Tensor r = context.ShapedLike(outputRelevance[0]!, _node.Input(0));
        if (context.Mode == PropagationMode.Relevance)
        {
            return [r, null];
        }

        int[] xRow = x.Shape[1..];
        int[] slopeMap = Broadcasting.IndexMap(Broadcasting.ConstantRowShape(_node, _slope.Shape, x.Rank), xRow);
        float[] slope = _slope.AsFloats();
        var g = context.NewTensor(r.Shape);
        int length = x.RowLength;
        for (int row = 0; row < context.Rows; row++)
        {
            ReadOnlySpan<float> xs = x.Data.AsSpan(context.RowImage[row] * length, length);
            for (int i = 0; i < length; i++)
            {
                g.Data[(row * length) + i] = r.Data[(row * length) + i] * (xs[i] > 0f ? 1f : slope[slopeMap[i]]);
            }
        }

        return [g, null];
    }
}
