using Clrp.Onnx.Proto;

namespace Clrp.Onnx.Emitting;

/// <summary>The ops whose ONNX form changed between opsets, each written the way <see cref="Opset"/> defines it.</summary>
internal sealed partial class OnnxEmitter
{
    /// <summary>ONNX TensorProto data types used by Cast.</summary>
    public const long FloatType = 1;

    /// <summary>int64.</summary>
    public const long Int64Type = 7;

    /// <summary>bool.</summary>
    public const long BoolType = 9;

    /// <summary><c>Reshape(x, shape)</c> with a constant target shape (0 copies the input's dimension, −1 is inferred).</summary>
    public string Reshape(string x, params long[] shape) => Node("Reshape", [x, Vector(shape)]);

    /// <summary><c>ReduceSum/ReduceMax/ReduceMin/ReduceMean(x)</c> over <paramref name="axes"/>, axes as an attribute or an input as the opset says.</summary>
    public string Reduce(string op, string x, long[] axes, bool keepDims)
    {
        bool axesAsInput = op == "ReduceSum" ? Opset >= 13 : Opset >= 18;
        AttributeProto keep = Int("keepdims", keepDims ? 1 : 0);
        return axesAsInput
            ? Node(op, [x, Vector(axes)], keep)
            : Node(op, [x], Ints("axes", axes), keep);
    }

    /// <summary><c>Slice(x)</c> with constant starts, ends and axes (steps 1).</summary>
    public string Slice(string x, long[] starts, long[] ends, long[] axes) =>
        Opset >= 10
            ? Node("Slice", [x, Vector(starts), Vector(ends), Vector(axes)])
            : Node("Slice", [x], Ints("starts", starts), Ints("ends", ends), Ints("axes", axes));

    /// <summary><c>Pad(x)</c> in constant mode: <paramref name="pads"/> = [begin of every axis…, end of every axis…].</summary>
    public string Pad(string x, long[] pads, float value)
    {
        if (Opset >= 11)
        {
            return Node("Pad", [x, Vector(pads), Scalar(value)], new AttributeProto { Name = "mode", Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8("constant") });
        }

        return Opset >= 2
            ? Node("Pad", [x], Ints("pads", pads), Float("value", value))
            : Node("Pad", [x], Ints("paddings", pads), Float("value", value));
    }

    /// <summary><c>TopK(x, k)</c> along <paramref name="axis"/>, largest first (ties: lower index first); returns (values, indices).</summary>
    public (string Values, string Indices) TopK(string x, int k, int axis)
    {
        string[] outputs = Opset >= 10
            ? Node("TopK", [x, Vector(k)], 2, Int("axis", axis))
            : Node("TopK", [x], 2, Int("axis", axis), Int("k", k));
        return (outputs[0], outputs[1]);
    }

    /// <summary><c>Cast(x, to)</c>.</summary>
    public string Cast(string x, long to) => Node("Cast", [x], Int("to", to));

    /// <summary>1 where <paramref name="a"/> &gt; <paramref name="b"/>, else 0, as float32.</summary>
    public string GreaterFloat(string a, string b) => Cast(Node("Greater", [a, b]), FloatType);

    /// <summary>1 where <paramref name="a"/> &lt; <paramref name="b"/>, else 0, as float32.</summary>
    public string LessFloat(string a, string b) => Cast(Node("Less", [a, b]), FloatType);

    /// <summary>
    /// <c>condition ? a : b</c> for a float 0/1 <paramref name="condition"/>: ONNX Where from opset 9; before it
    /// <c>c·a + (1 − c)·b</c>, exact for finite a and b.
    /// </summary>
    public string Select(string condition, string whenTrue, string whenFalse)
    {
        if (Opset >= 9)
        {
            return Node("Where", [Cast(condition, BoolType), whenTrue, whenFalse]);
        }

        string keep = Node("Mul", [condition, whenTrue]);
        string other = Node("Mul", [Node("Sub", [Scalar(1f), condition]), whenFalse]);
        return Node("Add", [keep, other]);
    }

    /// <summary>
    /// <c>Gemm(a, b)</c> = <c>a'·b'</c> with a' = aᵀ if <paramref name="transA"/>, b' = bᵀ if <paramref name="transB"/>;
    /// before opset 11 the required C input is a zero scalar.
    /// </summary>
    public string Gemm(string a, string b, bool transA, bool transB)
    {
        string[] inputs = Opset >= 11 ? [a, b] : [a, b, Scalar(0f)];
        return Node("Gemm", inputs, Int("transA", transA ? 1 : 0), Int("transB", transB ? 1 : 0));
    }

    /// <summary><c>Softmax(x)</c> over the last axis of a 2-D tensor (the same in every opset for rank 2, axis 1).</summary>
    public string Softmax2d(string x) => Node("Softmax", [x], Int("axis", 1));
}
