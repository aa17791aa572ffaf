using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Element-wise activations beyond ReLU (DESIGN §1: pass-through). Relevance passes unchanged, <c>R_x = R_y</c>;
/// the gradient multiplies by the derivative at the captured input, <c>g_x = f'(x)·g_y</c>:
/// LeakyRelu <c>x &gt; 0 ? 1 : α</c>, Elu <c>x &gt; 0 ? 1 : α·eˣ</c>, Selu <c>γ·(x &gt; 0 ? 1 : α·eˣ)</c>, Sigmoid <c>σ(1 − σ)</c>,
/// HardSigmoid <c>α</c> inside (0, 1), HardSwish <c>(2x + 3)/6</c> on (−3, 3), Tanh <c>1 − tanh²</c>, Softplus <c>σ(x)</c>, Gelu (below),
/// Clip <c>1</c> strictly inside (min, max) (as Relu uses x &gt; 0), Cast to float32 <c>1</c>.
/// </summary>
internal static class ElementwiseOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("LeakyRelu", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 0.01f);
            return Pass(n, (alg, x) => alg.Where(Positive(alg, x), S(alg, 1f), S(alg, alpha)));
        });
        registry.Register("Elu", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 1f);
            return Pass(n, (alg, x) => alg.Where(Positive(alg, x), S(alg, 1f), alg.Binary(BinaryOp.Multiply, S(alg, alpha), alg.Unary(UnaryOp.Exp, x))));
        });
        registry.Register("Selu", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 1.67326319217681884765625f), gamma = n.Attributes.GetFloat("gamma", 1.05070102214813232421875f);
            return Pass(n, (alg, x) => alg.Where(Positive(alg, x), S(alg, gamma), alg.Binary(BinaryOp.Multiply, S(alg, gamma * alpha), alg.Unary(UnaryOp.Exp, x))));
        });
        registry.Register("Sigmoid", 6, 22, (n, _) => Pass(n, SigmoidDerivative));
        registry.Register("HardSigmoid", 6, 22, (n, _) =>
        {
            float alpha = Alpha(n, 0.2f), beta = n.Attributes.GetFloat("beta", 0.5f);
            return Pass(n, (alg, x) =>
            {
                RelValue y = alg.Binary(BinaryOp.Add, alg.Binary(BinaryOp.Multiply, S(alg, alpha), x), S(alg, beta));
                RelValue inside = alg.Binary(BinaryOp.Multiply, alg.Binary(BinaryOp.Greater, y, S(alg, 0f)), alg.Binary(BinaryOp.Less, y, S(alg, 1f)));
                return alg.Binary(BinaryOp.Multiply, inside, S(alg, alpha));
            });
        });
        registry.Register("HardSwish", 14, 22, (n, _) => Pass(n, (alg, x) =>
        {
            RelValue ramp = alg.Binary(BinaryOp.Divide, alg.Binary(BinaryOp.Add, alg.Binary(BinaryOp.Multiply, S(alg, 2f), x), S(alg, 3f)), S(alg, 6f));
            RelValue belowTop = alg.Where(alg.Binary(BinaryOp.Less, x, S(alg, 3f)), ramp, S(alg, 1f));
            return alg.Where(alg.Binary(BinaryOp.Greater, x, S(alg, -3f)), belowTop, S(alg, 0f));
        }));
        registry.Register("Tanh", 6, 22, (n, _) => Pass(n, (alg, x) =>
        {
            RelValue t = alg.Unary(UnaryOp.Tanh, x);
            return alg.Binary(BinaryOp.Subtract, S(alg, 1f), alg.Binary(BinaryOp.Multiply, t, t));
        }));
        registry.Register("Softplus", 1, 22, (n, _) => Pass(n, (alg, x) => alg.Unary(UnaryOp.Sigmoid, x)));
        // Softsign x/(1+|x|) and Mish x·tanh(softplus x) (issue 11): pass, like every activation; f' for the gradient.
        registry.Register("Softsign", 1, 22, (n, _) => Pass(n, (alg, x) =>
        {
            RelValue d = alg.Binary(BinaryOp.Add, S(alg, 1f), alg.Unary(UnaryOp.Abs, x));
            return alg.Unary(UnaryOp.Reciprocal, alg.Binary(BinaryOp.Multiply, d, d));
        }));
        registry.Register("Mish", 18, 22, (n, _) => Pass(n, MishDerivative));
        registry.Register("Gelu", 20, 22, CreateGelu);
        registry.Register("Clip", 6, 22, CreateClip);
        registry.Register("Cast", 6, 22, CreateCast);
        registry.Register("PRelu", 7, 22, (n, g) => new PReluPropagator(n, g));
    }

    private static ElementwisePassPropagator Pass(Node node, Derivative? derivative) => new(node, derivative);

    private static float Alpha(Node node, float defaultValue) => node.Attributes.GetFloat("alpha", defaultValue);

    private static RelValue S(IRelevanceAlgebra alg, float value) => ActivationOps.Scalar(alg, value);

    /// <summary>
    /// Mish′(x) = t + x·σ(x)·(1 − t²) with t = tanh(softplus x) = ((1+eˣ)² − 1)/((1+eˣ)² + 1) (no logarithm needed); for x &gt; 20,
    /// where eˣ² overflows float32, t = 1 and Mish′ = 1 to float precision.
    /// </summary>
    private static RelValue MishDerivative(IRelevanceAlgebra alg, RelValue x)
    {
        RelValue onePlusE = alg.Binary(BinaryOp.Add, S(alg, 1f), alg.Unary(UnaryOp.Exp, alg.Where(alg.Binary(BinaryOp.Greater, x, S(alg, 20f)), S(alg, 20f), x)));
        RelValue p = alg.Binary(BinaryOp.Multiply, onePlusE, onePlusE);
        RelValue t = alg.Binary(BinaryOp.Divide, alg.Binary(BinaryOp.Subtract, p, S(alg, 1f)), alg.Binary(BinaryOp.Add, p, S(alg, 1f)));
        RelValue slope = alg.Binary(BinaryOp.Multiply, alg.Binary(BinaryOp.Multiply, x, alg.Unary(UnaryOp.Sigmoid, x)), alg.Binary(BinaryOp.Subtract, S(alg, 1f), alg.Binary(BinaryOp.Multiply, t, t)));
        return alg.Where(alg.Binary(BinaryOp.Greater, x, S(alg, 20f)), S(alg, 1f), alg.Binary(BinaryOp.Add, t, slope));
    }

    /// <summary>
    /// Gelu (opset 20; also what <see cref="Canonizers.FuseGelu"/> makes of the exporters' Erf and Tanh patterns): pass, as
    /// every activation. Gradient, the true derivative: approximate = "none", <c>GELU(x) = x·Φ(x)</c>,
    /// <c>GELU′(x) = Φ(x) + x·φ(x) = ½(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π)</c>; approximate = "tanh",
    /// <c>GELU(x) = ½x(1 + tanh u)</c> with <c>u = √(2/π)(x + 0.044715x³)</c>,
    /// <c>GELU′(x) = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)</c> (Hendrycks &amp; Gimpel 2016, "Gaussian Error
    /// Linear Units"; ONNX Gelu-20).
    /// </summary>
    private static IOperatorPropagator CreateGelu(Node node, OnnxGraph graph)
    {
        _ = graph;
        string approximate = node.Attributes.GetString("approximate", "none");
        return approximate switch
        {
            "none" => Pass(node, GeluDerivative),
            "tanh" => Pass(node, GeluTanhDerivative),
            _ => throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"approximate = '{approximate}'; Gelu defines 'none' and 'tanh'"),
        };
    }

    private static RelValue GeluDerivative(IRelevanceAlgebra alg, RelValue x)
    {
        RelValue cdf = alg.Binary(BinaryOp.Multiply, S(alg, 0.5f), alg.Binary(BinaryOp.Add, S(alg, 1f), alg.Unary(UnaryOp.Erf, alg.Binary(BinaryOp.Multiply, x, S(alg, (float)(1 / Math.Sqrt(2)))))));
        RelValue pdf = alg.Binary(BinaryOp.Multiply, S(alg, (float)(1 / Math.Sqrt(2 * Math.PI))), alg.Unary(UnaryOp.Exp, alg.Binary(BinaryOp.Multiply, S(alg, -0.5f), alg.Binary(BinaryOp.Multiply, x, x))));
        return alg.Binary(BinaryOp.Add, cdf, alg.Binary(BinaryOp.Multiply, x, pdf));
    }

    private static RelValue GeluTanhDerivative(IRelevanceAlgebra alg, RelValue x)
    {
        const float kappa = 0.044715f;
        float beta = (float)Math.Sqrt(2 / Math.PI);
        RelValue x2 = alg.Binary(BinaryOp.Multiply, x, x);
        RelValue u = alg.Binary(BinaryOp.Multiply, S(alg, beta), alg.Binary(BinaryOp.Add, x, alg.Binary(BinaryOp.Multiply, S(alg, kappa), alg.Binary(BinaryOp.Multiply, x2, x))));
        RelValue t = alg.Unary(UnaryOp.Tanh, u);
        RelValue du = alg.Binary(BinaryOp.Multiply, S(alg, beta), alg.Binary(BinaryOp.Add, S(alg, 1f), alg.Binary(BinaryOp.Multiply, S(alg, 3 * kappa), x2)));
        RelValue half = alg.Binary(BinaryOp.Multiply, S(alg, 0.5f), alg.Binary(BinaryOp.Add, S(alg, 1f), t));
        RelValue slope = alg.Binary(BinaryOp.Multiply, alg.Binary(BinaryOp.Multiply, S(alg, 0.5f), x), alg.Binary(BinaryOp.Multiply, alg.Binary(BinaryOp.Subtract, S(alg, 1f), alg.Binary(BinaryOp.Multiply, t, t)), du));
        return alg.Binary(BinaryOp.Add, half, slope);
    }

    private static RelValue Positive(IRelevanceAlgebra alg, RelValue x) => alg.Binary(BinaryOp.Greater, x, S(alg, 0f));

    /// <summary>σ′(x) = σ(x)(1 − σ(x)).</summary>
    private static RelValue SigmoidDerivative(IRelevanceAlgebra alg, RelValue x)
    {
        RelValue s = alg.Unary(UnaryOp.Sigmoid, x);
        return alg.Binary(BinaryOp.Multiply, s, alg.Binary(BinaryOp.Subtract, S(alg, 1f), s));
    }

    /// <summary>Clip: bounds from the attributes (opsets 6–10) or from constant inputs 1 and 2 (11+), absent = unbounded.</summary>
    private static IOperatorPropagator CreateClip(Node node, OnnxGraph graph)
    {
        float min = node.Opset < 11 ? node.Attributes.GetFloat("min", float.NegativeInfinity) : Bound(node, graph, 1, float.NegativeInfinity);
        float max = node.Opset < 11 ? node.Attributes.GetFloat("max", float.PositiveInfinity) : Bound(node, graph, 2, float.PositiveInfinity);
        return Pass(node, (alg, x) => alg.Binary(BinaryOp.Multiply, alg.Binary(BinaryOp.Greater, x, S(alg, min)), alg.Binary(BinaryOp.Less, x, S(alg, max))));
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

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue x = alg.Activation(_node.Input(0));
        RelValue r = alg.Reshape(outputRelevance[0]!, x.RowShape);
        if (plan.Mode == PropagationMode.Relevance)
        {
            return [r, null];
        }

        RelValue slope = alg.Constant(_slope.AsFloats(), Broadcasting.ConstantRowShape(_node, _slope.Shape, x.RowShape.Length + 1));
        RelValue derivative = alg.Where(alg.Binary(BinaryOp.Greater, x, ActivationOps.Scalar(alg, 0f)), ActivationOps.Scalar(alg, 1f), slope);
        return [alg.Binary(BinaryOp.Multiply, r, derivative), null];
    }
}
