using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Compiled engine against the managed walk on the ResNet18 featurizer of the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 (real ImageNet weights, CNTK export at opset 8, 22 unfused BatchNorms): every
/// method × composite on its pooled 512 features, top-2 of one preprocessed random picture.
/// </summary>
[TestClass]
public sealed class PretrainedParityTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [TestCategory("slow")]
    public void Compiled_equals_managed_on_the_ResNet18_featurizer()
    {
        string model = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        string preprocess = Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        Assert.IsTrue(File.Exists(model), $"{model} missing: the NuGet package copies it at build time");
        float[] rgb = RandomData.Uniform(new Random(180), 3 * 224 * 224, 0, 255);
        (float[] data, int[] shape) = OrtOracle.RunOnce(File.ReadAllBytes(preprocess), rgb, [1, 3, 224, 224]);
        foreach (string line in ParityHarness.AssertParityShared(model, new Tensor(data, shape), "ResNet18 featurizer", ParityHarness.GridComposites, ParityHarness.Methods))
        {
            TestContext.WriteLine(line);
        }
    }
}
