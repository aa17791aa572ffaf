using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Issue 11's operators — Sum, Tile, DepthToSpace, SpaceToDepth, Softsign, Mish — and folded shape arithmetic (a Reshape to
/// view(x.size(0), -1)) in one small net: the compiled engine equals the managed walk for every method and composite.
/// </summary>
[TestClass]
public sealed class NewOpsParityTests
{
    public TestContext TestContext { get; set; } = null!;

    private static float[] Weights(int count, double phase) => Enumerable.Range(0, count).Select(i => (float)(0.4 * Math.Sin((i * 0.91) + phase))).ToArray();

    /// <summary>x [N,2,4,4] → Conv 3×3 (8) → Mish → DepthToSpace 2 → SpaceToDepth 2 → Softsign; Sum(that, Relu(conv), Mish) → Tile ×2 on W → view(N, -1) → Gemm 256→5.</summary>
    private static byte[] Model() => new OnnxBuilder(opset: 18).Input("x", "N", 2L, 4L, 4L)
        .Initializer("w", Weights(8 * 2 * 9, 0.3), [8, 2, 3, 3])
        .Initializer("bias", Weights(8, 1.7), [8])
        .Node("Conv", ["x", "w", "bias"], ["c"], "conv", OnnxBuilder.Ints("pads", 1, 1, 1, 1))
        .Node("Mish", ["c"], ["m"], "mish")
        .Node("DepthToSpace", ["m"], ["d"], "d2s", OnnxBuilder.Int("blocksize", 2), OnnxBuilder.String("mode", "CRD"))
        .Node("SpaceToDepth", ["d"], ["s"], "s2d", OnnxBuilder.Int("blocksize", 2))
        .Node("Softsign", ["s"], ["ss"], "softsign")
        .Node("Relu", ["c"], ["r"], "relu")
        .Node("Sum", ["ss", "r", "m"], ["sum"], "sum")
        .Int64Initializer("repeats", [1, 1, 1, 2], [4])
        .Node("Tile", ["sum", "repeats"], ["t"], "tile")
        .Node("Shape", ["t"], ["shape"], "shape")
        .Int64Initializer("zero", [0], [])
        .Node("Gather", ["shape", "zero"], ["n"], "gather", OnnxBuilder.Int("axis", 0))
        .Int64Initializer("axes", [0], [1])
        .Node("Unsqueeze", ["n", "axes"], ["n1"], "unsqueeze")
        .Int64Initializer("rest", [-1], [1])
        .Node("Concat", ["n1", "rest"], ["view"], "view_shape", OnnxBuilder.Int("axis", 0))
        .Node("Reshape", ["t", "view"], ["f"], "view")
        .Initializer("g", Weights(5 * 256, 2.9), [5, 256])
        .Initializer("gb", Weights(5, 0.1), [5])
        .Node("Gemm", ["f", "g", "gb"], ["y"], "gemm", OnnxBuilder.Int("transB", 1))
        .Output("y")
        .ToBytes();

    [TestMethod]
    public void Compiled_equals_managed_on_the_new_operators()
    {
        string path = ExplainerHarness.Save(Model());
        Tensor input = ParityHarness.RandomInput(11, 2, 2, 4, 4);
        foreach (string line in ParityHarness.AssertParity(path, input, "issue-11 ops"))
        {
            TestContext.WriteLine(line);
        }
    }
}
