using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Evaluates ONNX ops whose inputs are all constants — the shape arithmetic exporters write (torch's pads chain
/// ConstantOfShape → Concat → Reshape → Slice → Transpose → Cast, Unsqueeze/Concat shape vectors) and weight
/// preprocessing (Cast of float16 weights, Transpose, Mul by a scale) — with ONNX semantics, in the element kind
/// <see cref="ConstantTensor"/> keeps (float or int64). Returns null for anything it does not evaluate, which then
/// simply stays in the graph.
/// </summary>
internal static class ConstantEvaluator
{
    /// <summary>Element types cast to float (float, float16, double, bfloat16); the other numeric types and bool become int64.</summary>
    private static readonly HashSet<long> FloatTypes = [1, 10, 11, 16];

    /// <summary>Op types this evaluator knows (the canonizer asks before gathering inputs).</summary>
    public static readonly IReadOnlySet<string> Supported = new HashSet<string>(StringComparer.Ordinal)
    {
        "Identity", "Cast", "ConstantOfShape", "Shape", "Size", "Unsqueeze", "Squeeze", "Flatten", "Reshape", "Concat",
        "Gather", "Slice", "Transpose", "Expand", "Add", "Sub", "Mul", "Div", "Neg",
    };

    /// <summary>The outputs of <paramref name="node"/> for constant <paramref name="inputs"/> (null where an optional input is absent), or null.</summary>
    public static ConstantTensor? Evaluate(Node node, IReadOnlyList<ConstantTensor?> inputs, string source)
    {
        if (node.Domain.Length != 0 || !Supported.Contains(node.OpType) || node.Outputs.Count != 1 || inputs.Count == 0 || inputs[0] is null)
        {
            return null;
        }

        ConstantTensor x = inputs[0]!;
        ConstantTensor? Input(int i) => i < inputs.Count ? inputs[i] : null;
        long[]? IntsFrom(string attribute, int input, int inputFromOpset) =>
            node.Opset < inputFromOpset ? node.Attributes.GetInts(attribute) : Input(input)?.AsLongs();
        try
        {
            return node.OpType switch
            {
                "Identity" => x,
                "Cast" => Cast(x, node.Attributes.GetInt("to", 0)),
                "ConstantOfShape" => Fill(x.AsLongs(), node.Attributes.GetTensor("value") is { } t ? TensorProtoDecoder.Decode(t, source) : null),
                "Shape" => ConstantReshaping.Shape(x, node.Attributes.GetInt("start", 0), node.Attributes.Has("end") ? node.Attributes.GetInt("end", 0) : null),
                "Size" => new ConstantTensor([], [(long)x.Length]),
                "Unsqueeze" => ConstantReshaping.Unsqueeze(x, IntsFrom("axes", 1, 13)),
                "Squeeze" => ConstantReshaping.Squeeze(x, IntsFrom("axes", 1, 13)),
                "Flatten" => ConstantReshaping.Flatten(x, node.Attributes.GetInt("axis", 1)),
                "Reshape" => ConstantReshaping.Reshape(x, node.Opset < 5 ? node.Attributes.GetInts("shape") : Input(1)?.AsLongs(), node.Attributes.GetInt("allowzero", 0) != 0),
                "Concat" => ConstantReshaping.Concat(inputs, node.Attributes.GetInt("axis", 1)),
                "Gather" => ConstantReshaping.Gather(x, Input(1), node.Attributes.GetInt("axis", 0)),
                "Slice" => ConstantReshaping.Slice(x, IntsFrom("starts", 1, 10), IntsFrom("ends", 2, 10), IntsFrom("axes", 3, 10), node.Opset < 10 ? null : Input(4)?.AsLongs()),
                "Transpose" => ConstantReshaping.Transpose(x, node.Attributes.GetInts("perm")),
                "Expand" => Input(1) is { } shape ? ConstantReshaping.Expand(x, shape.AsLongs()) : null,
                "Neg" => x.Floats is { } f ? new ConstantTensor(x.Shape, Array.ConvertAll(f, v => -v)) : new ConstantTensor(x.Shape, Array.ConvertAll(x.Longs!, v => -v)),
                _ => Input(1) is { } y ? Arithmetic(node.OpType, x, y) : null,
            };
        }
        catch (ArgumentException)
        {
            // Inconsistent constants (a malformed shape chain): leave the node to ONNX Runtime, which reports it.
            return null;
        }
    }

    /// <summary>Cast to float kinds, or to integer/bool kinds (floats truncate toward zero; bool is x ≠ 0).</summary>
    private static ConstantTensor? Cast(ConstantTensor x, long to)
    {
        if (FloatTypes.Contains(to))
        {
            return new ConstantTensor(x.Shape, x.AsFloats());
        }

        if (to is 8 or 0 or 14 or 15)
        {
            return null; // string, undefined, complex
        }

        bool toBool = to == 9;
        long[] values = x.Floats is { } f ? Array.ConvertAll(f, v => toBool ? (v != 0f ? 1L : 0L) : (long)v) : Array.ConvertAll(x.Longs!, v => toBool ? (v != 0 ? 1L : 0L) : v);
        return new ConstantTensor(x.Shape, values);
    }

    /// <summary>ConstantOfShape: a tensor of <paramref name="shape"/> filled with the one element of <paramref name="value"/> (default float 0).</summary>
    private static ConstantTensor Fill(long[] shape, ConstantTensor? value)
    {
        int[] dims = Array.ConvertAll(shape, d => checked((int)d));
        int count = Tensor.CheckedCount(dims);
        return value?.Longs is { } longs ? new ConstantTensor(dims, Enumerable.Repeat(longs[0], count).ToArray())
            : new ConstantTensor(dims, Enumerable.Repeat(value?.Floats?[0] ?? 0f, count).ToArray());
    }

    /// <summary>Add/Sub/Mul/Div with NumPy broadcasting; int64 when both operands are integral (Div truncates), else float.</summary>
    private static ConstantTensor? Arithmetic(string op, ConstantTensor a, ConstantTensor b)
    {
        int[] shape = BroadcastIndex.Shape(a.Shape, b.Shape) ?? throw new ArgumentException("operands do not broadcast");
        int[] ia = BroadcastIndex.Map(a.Shape, shape), ib = BroadcastIndex.Map(b.Shape, shape);
        if (a.Longs is { } la && b.Longs is { } lb)
        {
            Func<long, long, long> f = op switch { "Add" => (x, y) => x + y, "Sub" => (x, y) => x - y, "Mul" => (x, y) => x * y, _ => (x, y) => y == 0 ? throw new ArgumentException("integer division by zero") : x / y };
            return new ConstantTensor(shape, Enumerable.Range(0, ia.Length).Select(j => f(la[ia[j]], lb[ib[j]])).ToArray());
        }

        float[] fa = a.AsFloats(), fb = b.AsFloats();
        Func<float, float, float> g = op switch { "Add" => (x, y) => x + y, "Sub" => (x, y) => x - y, "Mul" => (x, y) => x * y, _ => (x, y) => x / y };
        return new ConstantTensor(shape, Enumerable.Range(0, ia.Length).Select(j => g(fa[ia[j]], fb[ib[j]])).ToArray());
    }
}
