using Clrp.MLNet.Chain;
using Clrp.MLNet.Tests.Support;
using Clrp.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;
using static Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator;

namespace Clrp.MLNet.Tests;

/// <summary>
/// "Say it once": <c>ml.Transforms.ExplainOnnxModel(path)</c> and <c>AppendExplain()</c> give what ApplyOnnxModel gives
/// plus the maps, with the bounds taken from ExtractPixels, and equal the two-step pipeline that names everything twice.
/// </summary>
[TestClass]
public sealed class OneStepTests
{
    private const float Offset = 0.2860f * 255f;
    private const float Scale = 1f / (0.3530f * 255f);

    [TestMethod]
    public void ExplainOnnxModel_OneStep_EqualsApplyOnnxModelPlusAppendExplainWithMeanStd()
    {
        var ml = new MLContext(seed: 0);
        IDataView images = Images(ml);
        var twoSteps = Preprocessing(ml).Append(ml.Transforms.ApplyOnnxModel(Fashion.Model))
            .AppendExplain(ml, Fashion.Model, o => { o.Mean = Fashion.Mean; o.Std = Fashion.Std; });
        var oneStep = Preprocessing(ml).Append(ml.Transforms.ExplainOnnxModel(Fashion.Model));

        using var expected = twoSteps.Fit(images);
        using var actual = oneStep.Fit(images);
        Assert.IsFalse(ExplainingChainEstimator<ITransformer>.Flatten(actual).OfType<OnnxTransformer>().Any(), "no ApplyOnnxModel step: the model runs once per row");
        AssertSameOutputs(expected.Transform(images), actual.Transform(images));
    }

    [TestMethod]
    public void AppendExplain_NoArguments_ReplacesApplyOnnxModelAndFindsBounds()
    {
        var ml = new MLContext(seed: 0);
        IDataView images = Images(ml);
        var reference = Preprocessing(ml).Append(ml.Transforms.ApplyOnnxModel(Fashion.Model))
            .AppendExplain(ml, Fashion.Model, o => { o.Mean = Fashion.Mean; o.Std = Fashion.Std; });
        // A step after ApplyOnnxModel that reads its output keeps working on the explainer's column.
        var pipeline = Preprocessing(ml).Append(ml.Transforms.ApplyOnnxModel(Fashion.Model))
            .Append(ml.Transforms.CopyColumns("copy", "probabilities"))
            .AppendExplain();

        using var expected = reference.Fit(images);
        using TransformerChain<ITransformer> actual = pipeline.Fit(images);
        ITransformer[] parts = ExplainingChainEstimator<ITransformer>.Flatten(actual).ToArray();
        Assert.IsFalse(parts.OfType<OnnxTransformer>().Any(), "the ApplyOnnxModel step was replaced");
        ClrpTransformer explainer = parts.OfType<ClrpTransformer>().Single();
        Assert.AreEqual(-0.2860f / 0.3530f, explainer.Options.Low![0], 1e-5, "low bound from ExtractPixels");
        Assert.AreEqual((1 - 0.2860f) / 0.3530f, explainer.Options.High![0], 1e-5, "high bound from ExtractPixels");
        IDataView output = actual.Transform(images);
        AssertSameOutputs(expected.Transform(images), output);
        CollectionAssert.AreEqual(output.GetColumn<float[]>("probabilities").SelectMany(v => v).ToArray(), output.GetColumn<float[]>("copy").SelectMany(v => v).ToArray());
    }

    [TestMethod]
    public void AppendExplain_NothingToExplain_NamesTheOverloadWithThePath()
    {
        var ml = new MLContext(seed: 0);
        var e = Assert.ThrowsExactly<InvalidOptionsException>(() => Preprocessing(ml).AppendExplain().Fit(Images(ml)));
        StringAssert.Contains(e.Message, "AppendExplain(ml, \"model.onnx\"");
    }

    [TestMethod]
    public void AppendExplain_WithModelPathInConfigure_IsRefused()
    {
        var ml = new MLContext(seed: 0);
        var e = Assert.ThrowsExactly<InvalidOptionsException>(() => Preprocessing(ml).AppendExplain(o => o.ModelPath = Fashion.Model));
        StringAssert.Contains(e.Message, "AppendExplain(ml, modelPath, configure)");
    }

    [TestMethod]
    public void MlNetAccess_ReadsWhatMlNetKeepsInternal()
    {
        // Pins every guarded accessor on the pinned ML.NET version: a package bump that moves a member fails here first.
        var ml = new MLContext(seed: 0) { GpuDeviceId = 3, FallbackToCpu = true };
        Assert.AreEqual(((int?)3, (bool?)true), MlNetAccess.GpuDefaultsOf(ml.Transforms));
        ml.GpuDeviceId = null;
        IDataView images = Images(ml);
        using var fitted = Preprocessing(ml).Append(ml.Transforms.ApplyOnnxModel(Fashion.Model)).Fit(images);
        ITransformer[] parts = ExplainingChainEstimator<ITransformer>.Flatten(fitted).ToArray();
        MlNetAccess.OnnxStep step = MlNetAccess.ReadOnnx(parts.OfType<OnnxTransformer>().Single())!;
        Assert.AreEqual(Path.GetFullPath(Fashion.Model), Path.GetFullPath(step.ModelPath));
        CollectionAssert.AreEqual(new[] { "input" }, step.Inputs);
        CollectionAssert.AreEqual(new[] { "probabilities" }, step.Outputs);
        MlNetAccess.PixelColumn pixels = parts.Select(MlNetAccess.ReadPixels).Single(p => p is not null)!.Single();
        Assert.AreEqual(("input", Offset, Scale), (pixels.Name, pixels.Offset, pixels.Scale));
        (float low, float high) = PixelBounds.Find(fitted.Transform(images), "input")!.Value;
        Assert.AreEqual((0 - Offset) * Scale, low);
        Assert.AreEqual((255 - Offset) * Scale, high);
        Assert.IsNull(PixelBounds.Find(fitted.Transform(images), "probabilities"), "a column ApplyOnnxModel wrote has no pixel bounds");
    }

    private static void AssertSameOutputs(IDataView expected, IDataView actual)
    {
        float[] p0 = expected.GetColumn<float[]>("probabilities").SelectMany(v => v).ToArray();
        float[] p1 = actual.GetColumn<float[]>("probabilities").SelectMany(v => v).ToArray();
        Assert.AreEqual(expected.Schema["probabilities"].Type, actual.Schema["probabilities"].Type, "the same column type as ApplyOnnxModel's");
        Assertions.AllClose(p0, p1, 1e-5, "probabilities (ApplyOnnxModel vs the explainer's forward pass)");
        float[] r0 = expected.GetColumn<float[]>("Relevance").SelectMany(v => v).ToArray();
        float[] r1 = actual.GetColumn<float[]>("Relevance").SelectMany(v => v).ToArray();
        Assertions.AllClose(r0, r1, 1e-5, "relevance (bounds from Mean/Std vs from ExtractPixels)");
        CollectionAssert.AreEqual(expected.GetColumn<int>("ExplainedClass").ToArray(), actual.GetColumn<int>("ExplainedClass").ToArray());
    }

    private static IDataView Images(MLContext ml) =>
        ml.Data.LoadFromEnumerable(Directory.GetFiles(Fashion.Samples, "*.png").Order().Select(f => new ImagePath { Path = f }));

    private static EstimatorChain<Microsoft.ML.Transforms.Image.ImagePixelExtractingTransformer> Preprocessing(MLContext ml) =>
        ml.Transforms.LoadImages("image", "", nameof(ImagePath.Path))
            .Append(ml.Transforms.ResizeImages("image", 28, 28))
            .Append(ml.Transforms.ConvertToGrayscale("image"))
            .Append(ml.Transforms.ExtractPixels("input", "image", ColorBits.Red, offsetImage: Offset, scaleImage: Scale));

    public sealed class ImagePath
    {
        public string Path { get; set; } = "";
    }
}
