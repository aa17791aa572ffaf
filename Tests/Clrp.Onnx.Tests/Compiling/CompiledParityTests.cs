using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// The compiled engine equals the managed walk (1e-5 relative L2) on the shipped models, for every method × composite
/// (DESIGN §2: parity is the test of both engines).
/// </summary>
[TestClass]
public sealed class CompiledParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("fashion-vgg.onnx", 1, 28, 28)]
    [DataRow("fashion-pair-vgg.onnx", 1, 64, 64)]
    [DataRow("fashion-pair-resnet.onnx", 1, 64, 64)]
    [DataRow("fashion-pair-mobilenet.onnx", 1, 64, 64)]
    [DataRow("emotion.onnx", 1, 64, 64)]
    [DataRow("ch_ppocr_mobile_v2.0_cls_infer.onnx", 3, 48, 192)]
    public void Compiled_equals_managed_for_every_method_and_composite(string model, int c, int h, int w)
    {
        Tensor input = ParityHarness.RandomInput(model.Length, 2, c, h, w);
        foreach (string line in ParityHarness.AssertParity(TestPaths.Model(model), input, model))
        {
            TestContext.WriteLine(line);
        }
    }
}
