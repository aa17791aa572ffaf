using Clrp.Onnx.Proto;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// Small models that parse and pass the graph checks but cannot run: the cases issue 12 reproduced by hand
/// (a kernel larger than its input, pads or dilations of 2^40, an input axis of 0, a channel-count mismatch, a Reshape
/// that does not divide). Each is x → Conv 'conv0' (or Reshape 'reshape0') → Relu → Flatten → y.
/// </summary>
internal static class HostileModels
{
    /// <summary>x [dims] → Conv(w [wdims], attributes) named conv0 → Relu → Flatten.</summary>
    public static OnnxBuilder Conv(object[] inputDims, long[] weightDims, params AttributeProto[] attributes)
    {
        int count = (int)weightDims.Aggregate(1L, (a, b) => a * b);
        float[] w = Enumerable.Range(0, count).Select(i => ((i % 7) / 7f) - 0.3f).ToArray();
        return new OnnxBuilder(13).Input("x", inputDims).Initializer("w", w, weightDims)
            .Node("Conv", ["x", "w"], ["c"], "conv0", attributes).Node("Relu", ["c"], ["r"]).Node("Flatten", ["r"], ["y"]).Output("y");
    }

    /// <summary>x [N,1,4,4] → Reshape to <paramref name="shape"/> (reshape0) → Flatten.</summary>
    public static OnnxBuilder Reshape(params long[] shape) =>
        new OnnxBuilder(13).Input("x", "N", 1L, 4L, 4L).Int64Initializer("s", shape, [shape.Length])
            .Node("Reshape", ["x", "s"], ["r"], "reshape0").Node("Flatten", ["r"], ["y"]).Output("y");

    /// <summary>Every case that fails only when run (dynamic H, W), with the node it must name.</summary>
    public static IEnumerable<(string Case, OnnxBuilder Model, int[] Input, string Node, string Op)> FailingAtRunTime()
    {
        object[] dynamic = ["N", 1L, "H", "W"];
        yield return ("kernel larger than input", Conv(dynamic, [2, 1, 5, 5]), [1, 1, 4, 4], "conv0", "Conv");
        yield return ("pads of 2^40", Conv(dynamic, [2, 1, 3, 3], OnnxBuilder.Ints("pads", 1L << 40, 1L << 40, 1L << 40, 1L << 40)), [1, 1, 4, 4], "conv0", "Conv");
        yield return ("dilations of 2^40", Conv(dynamic, [2, 1, 3, 3], OnnxBuilder.Ints("dilations", 1L << 40, 1L << 40)), [1, 1, 4, 4], "conv0", "Conv");
        yield return ("channel-count mismatch", Conv(["N", "C", "H", "W"], [2, 1, 3, 3]), [1, 3, 4, 4], "conv0", "Conv");
        yield return ("Reshape that does not divide", Reshape(1, 5, -1), [1, 1, 4, 4], "reshape0", "Reshape");
        yield return ("Reshape to another size", Reshape(1, 5, 3), [1, 1, 4, 4], "reshape0", "Reshape");
    }
}
