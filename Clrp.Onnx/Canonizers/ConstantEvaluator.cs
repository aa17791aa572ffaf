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
        CheckSize(node, inputs, source);
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
        catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException)
        {
            // Inconsistent constants (a malformed shape chain: lengths that differ, an index or size out of range — the
            // kinds fuzzing produces): leave the node to ONNX Runtime, which reports it.
            return null;
        }
    }

    /// <summary>
    /// Largest constant the graph may compute from its constants, and longest axis an evaluated constant may have:
    /// 2^24 elements (64 MB of float). Weights come from the file and are not limited here; what is limited is growth —
    /// a 528-byte file found by fuzzing held an empty initializer [2,9,126,268435450,1,0,…] whose Slice built an index
    /// list per axis (gigabytes), and ConstantOfShape/Expand/Concat/Gather or broadcasting can multiply a few bytes of
    /// file into any size. ONNX Runtime would fold the same nodes at session creation, so they are refused, not skipped.
    /// </summary>
    internal const long MaxElements = 1 << 24;

    /// <exception cref="InvalidGraphException">An input has an axis longer than <see cref="MaxElements"/> (or is empty with more
    /// positions than that on its other axes), or the result would be larger than it and than every input.</exception>
    private static void CheckSize(Node node, IReadOnlyList<ConstantTensor?> inputs, string source)
    {
        long largestInput = 0;
        foreach (ConstantTensor? input in inputs)
        {
            if (input is null)
            {
                continue;
            }

            largestInput = Math.Max(largestInput, input.Length);
            // An empty constant still has its other axes, which index lists are built over: [2,9,126,32767,5,0,…]
            // (a second fuzz finding) made 371 million offsets before reaching the 0.
            long positions = input.Shape.Where(d => d > 0).Aggregate(1L, (a, d) => a > long.MaxValue / d ? long.MaxValue : a * d);
            if (input.Shape.Any(d => d > MaxElements) || (input.Length == 0 && positions > MaxElements))
            {
                throw new InvalidGraphException($"{source}: node '{node.Name}' ({node.OpType}) reads a constant of shape [{string.Join(',', input.Shape)}]; ClrpMl evaluates constants with axes of at most {MaxElements} elements.");
            }
        }

        long result = EstimatedLength(node, inputs);
        if (result > Math.Max(MaxElements, largestInput))
        {
            throw new InvalidGraphException($"{source}: node '{node.Name}' ({node.OpType}) would compute a constant of {(result == long.MaxValue ? "more than 2^63" : result.ToString(System.Globalization.CultureInfo.InvariantCulture))} elements from its constant inputs; ClrpMl refuses constants above {MaxElements} elements that the graph makes itself.");
        }
    }

    /// <summary>Element count of the result for the ops that can grow (long.MaxValue on overflow); 0 for the others.</summary>
    private static long EstimatedLength(Node node, IReadOnlyList<ConstantTensor?> inputs)
    {
        static long Product(IEnumerable<long> dims)
        {
            long p = 1;
            foreach (long d in dims)
            {
                if (d < 0)
                {
                    return 0; // malformed: the evaluator's own checks reject it
                }

                p = d == 0 ? 0 : p > long.MaxValue / d ? long.MaxValue : p * d;
            }

            return p;
        }

        // NumPy broadcasting: shapes aligned on the right, the larger of each pair of dimensions.
        static long Broadcast(IReadOnlyList<long> a, IReadOnlyList<long> b)
        {
            int rank = Math.Max(a.Count, b.Count);
            var dims = new long[rank];
            for (int i = 1; i <= rank; i++)
            {
                dims[rank - i] = Math.Max(i <= a.Count ? a[^i] : 1, i <= b.Count ? b[^i] : 1);
            }

            return Product(dims);
        }

        ConstantTensor? x = inputs.Count > 0 ? inputs[0] : null, y = inputs.Count > 1 ? inputs[1] : null;
        IReadOnlyList<long> ShapeOf(ConstantTensor t) => Array.ConvertAll(t.Shape, d => (long)d);
        return node.OpType switch
        {
            "ConstantOfShape" when x is not null => Product(x.AsLongs()),
            "Expand" when x is not null && y is not null => Broadcast(ShapeOf(x), y.AsLongs()),
            "Add" or "Sub" or "Mul" or "Div" when x is not null && y is not null => Broadcast(ShapeOf(x), ShapeOf(y)),
            "Concat" => inputs.Sum(t => t?.Length ?? 0),
            "Gather" when x is not null && y is not null && x.Shape.Length > 0 => Product([y.Length, x.Length / Math.Max(1, x.Shape[GatherAxis(node, x.Shape.Length)])]),
            _ => 0,
        };
    }

    private static int GatherAxis(Node node, int rank)
    {
        long axis = node.Attributes.GetInt("axis", 0);
        return (int)Math.Clamp(axis < 0 ? axis + rank : axis, 0, rank - 1);
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
