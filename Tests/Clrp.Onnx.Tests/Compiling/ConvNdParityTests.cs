using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Whole 1-D and 3-D nets (Conv with BatchNorm, grouped and SAME-padded Conv, a residual Add, Max/Average pools,
/// ConvTranspose, global pools, Gemm): the explainer's forward equals ONNX Runtime's on the file, the gradient equals ORT's
/// finite differences, and the compiled engine equals the managed walk for every method and composite.
/// </summary>
[TestClass]
public sealed class ConvNdParityTests
{
    public TestContext TestContext { get; set; } = null!;

    private static float[] Weights(int count, double phase) => Enumerable.Range(0, count).Select(i => (float)(0.4 * Math.Sin((i * 0.91) + phase))).ToArray();

    private static float[] Positive(int count, double phase) => Enumerable.Range(0, count).Select(i => (float)(1 + (0.3 * Math.Sin((i * 1.3) + phase)))).ToArray();

    /// <summary>
    /// x [N,2,16] → Conv(4,k3,p1)+BN → Relu → MaxPool(k2,s2) → Conv(4,k3,SAME_UPPER,group 2) → Relu → Add(residual) →
    /// AveragePool(k2,s2) → ConvTranspose(4→3,k2,s2) → Relu → GlobalAveragePool → Flatten → Gemm 3→4.
    /// </summary>
    internal static byte[] OneD() => new OnnxBuilder(opset: 13).Input("x", "N", 2L, 16L)
        .Initializer("w1", Weights(4 * 2 * 3, 0.3), [4, 2, 3]).Initializer("b1", Weights(4, 1.1), [4])
        .Node("Conv", ["x", "w1", "b1"], ["c1"], "conv1", OnnxBuilder.Ints("pads", 1, 1))
        .Initializer("s", Positive(4, 0.2), [4]).Initializer("t", Weights(4, 2.2), [4]).Initializer("mu", Weights(4, 0.7), [4]).Initializer("var", Positive(4, 1.9), [4])
        .Node("BatchNormalization", ["c1", "s", "t", "mu", "var"], ["bn"], "bn1")
        .Node("Relu", ["bn"], ["r1"], "relu1")
        .Node("MaxPool", ["r1"], ["p1"], "maxpool", OnnxBuilder.Ints("kernel_shape", 2), OnnxBuilder.Ints("strides", 2))
        .Initializer("w2", Weights(4 * 2 * 3, 1.3), [4, 2, 3]).Initializer("b2", Weights(4, 0.4), [4])
        .Node("Conv", ["p1", "w2", "b2"], ["c2"], "conv2", OnnxBuilder.String("auto_pad", "SAME_UPPER"), OnnxBuilder.Int("group", 2))
        .Node("Relu", ["c2"], ["r2"], "relu2")
        .Node("Add", ["r2", "p1"], ["res"], "residual")
        .Node("AveragePool", ["res"], ["p2"], "avgpool", OnnxBuilder.Ints("kernel_shape", 2), OnnxBuilder.Ints("strides", 2))
        .Initializer("w3", Weights(4 * 3 * 2, 2.1), [4, 3, 2]).Initializer("b3", Weights(3, 0.9), [3])
        .Node("ConvTranspose", ["p2", "w3", "b3"], ["u"], "up", OnnxBuilder.Ints("strides", 2))
        .Node("Relu", ["u"], ["r3"], "relu3")
        .Node("GlobalAveragePool", ["r3"], ["g"], "gap")
        .Node("Flatten", ["g"], ["f"], "flatten")
        .Initializer("fc", Weights(4 * 3, 2.9), [4, 3]).Initializer("fcb", Weights(4, 0.1), [4])
        .Node("Gemm", ["f", "fc", "fcb"], ["y"], "fc", OnnxBuilder.Int("transB", 1))
        .Output("y")
        .ToBytes();

    /// <summary>
    /// x [N,2,4,6,6] → Conv(3,k3,p1)+BN → Relu → MaxPool(k2,s2) → Conv(4,k(1,3,3),SAME_LOWER) → Relu →
    /// AveragePool(k(2,1,1)) → ConvTranspose(4→2,k2,s2) → Relu → GlobalMaxPool → Flatten → Gemm 2→3.
    /// </summary>
    internal static byte[] ThreeD() => new OnnxBuilder(opset: 13).Input("x", "N", 2L, 4L, 6L, 6L)
        .Initializer("w1", Weights(3 * 2 * 27, 0.3), [3, 2, 3, 3, 3]).Initializer("b1", Weights(3, 1.1), [3])
        .Node("Conv", ["x", "w1", "b1"], ["c1"], "conv1", OnnxBuilder.Ints("pads", 1, 1, 1, 1, 1, 1))
        .Initializer("s", Positive(3, 0.2), [3]).Initializer("t", Weights(3, 2.2), [3]).Initializer("mu", Weights(3, 0.7), [3]).Initializer("var", Positive(3, 1.9), [3])
        .Node("BatchNormalization", ["c1", "s", "t", "mu", "var"], ["bn"], "bn1")
        .Node("Relu", ["bn"], ["r1"], "relu1")
        .Node("MaxPool", ["r1"], ["p1"], "maxpool", OnnxBuilder.Ints("kernel_shape", 2, 2, 2), OnnxBuilder.Ints("strides", 2, 2, 2))
        .Initializer("w2", Weights(4 * 3 * 9, 1.3), [4, 3, 1, 3, 3]).Initializer("b2", Weights(4, 0.4), [4])
        .Node("Conv", ["p1", "w2", "b2"], ["c2"], "conv2", OnnxBuilder.String("auto_pad", "SAME_LOWER"))
        .Node("Relu", ["c2"], ["r2"], "relu2")
        .Node("AveragePool", ["r2"], ["p2"], "avgpool", OnnxBuilder.Ints("kernel_shape", 2, 1, 1))
        .Initializer("w3", Weights(4 * 2 * 8, 2.1), [4, 2, 2, 2, 2]).Initializer("b3", Weights(2, 0.9), [2])
        .Node("ConvTranspose", ["p2", "w3", "b3"], ["u"], "up", OnnxBuilder.Ints("strides", 2, 2, 2))
        .Node("Relu", ["u"], ["r3"], "relu3")
        .Node("GlobalMaxPool", ["r3"], ["g"], "gmp")
        .Node("Flatten", ["g"], ["f"], "flatten")
        .Initializer("fc", Weights(3 * 2, 2.9), [3, 2]).Initializer("fcb", Weights(3, 0.1), [3])
        .Node("Gemm", ["f", "fc", "fcb"], ["y"], "fc", OnnxBuilder.Int("transB", 1))
        .Output("y")
        .ToBytes();

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void Forward_equals_ORT_and_gradient_equals_ORTs_finite_differences(int spatialRank)
    {
        byte[] model = spatialRank == 1 ? OneD() : ThreeD();
        int[] shape = spatialRank == 1 ? [2, 16] : [2, 4, 6, 6];
        Tensor input = ParityHarness.RandomInput(5, 2, shape);
        (float[] y, _) = OrtOracle.RunOnce(model, input.Data, input.Shape);
        foreach (ExplainerEngine engine in new[] { ExplainerEngine.Managed, ExplainerEngine.Compiled })
        {
            Explanation e = ExplainerHarness.Explain(model, input.Data, input.Shape, new ExplainerOptions { Engine = engine }, Target.TopK(1));
            Compare.Close(e.Logits.Data, y, 1e-5, $"{spatialRank}-D {engine}: logits vs ORT");
            CollectionAssert.AreEqual(shape, e.Relevance.Shape[^shape.Length..], $"{spatialRank}-D {engine}: relevance shape");
            Assert.IsTrue(e.Relevance.Data.All(float.IsFinite), $"{spatialRank}-D {engine}: finite relevance");
        }

        float[] one = input.Data[..shape.Aggregate(1, (a, b) => a * b)];
        ExplainerHarness.AssertGradientMatchesFiniteDifferences(model, one, shape, target: 1, h: 1e-3f, tolerance: 2e-3, $"{spatialRank}-D net");
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void Compiled_equals_managed_on_1d_and_3d_nets(int spatialRank)
    {
        string path = ExplainerHarness.Save(spatialRank == 1 ? OneD() : ThreeD());
        Tensor input = spatialRank == 1 ? ParityHarness.RandomInput(11, 2, 2, 16) : ParityHarness.RandomInput(11, 2, 2, 4, 6, 6);
        foreach (string line in ParityHarness.AssertParity(path, input, $"{spatialRank}-D net"))
        {
            TestContext.WriteLine(line);
        }
    }
}
