// The consumer test's app (scripts/consumer-test.sh copies this file into a fresh `dotnet new console` project that
// references the packed Clrp.MLNet from a local folder). It uses only what a user of the packages sees:
//   explain MODEL IMAGE OUT_DIR   the README's ML.NET pipeline on IMAGE, then the core API on the same input tensor;
//                                 writes mlnet.npy, input.npy and core.npy to OUT_DIR
//   compare A.npy B.npy TOL       exit 1 unless the two maps have the same length and agree within TOL (absolute)
using Clrp.MLNet;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using static Microsoft.ML.Transforms.Image.ImagePixelExtractingEstimator;

if (args is ["compare", string first, string second, string tolerance])
{
    float[] a = NpyFile.Read(first).Data, b = NpyFile.Read(second).Data;
    if (a.Length != b.Length)
    {
        Console.Error.WriteLine($"{first} has {a.Length} values, {second} {b.Length}");
        return 1;
    }

    double worst = 0, scale = 0;
    for (int i = 0; i < a.Length; i++)
    {
        worst = Math.Max(worst, Math.Abs((double)a[i] - b[i]));
        scale = Math.Max(scale, Math.Abs((double)b[i]));
    }

    bool same = worst <= double.Parse(tolerance, System.Globalization.CultureInfo.InvariantCulture);
    Console.WriteLine($"{Path.GetFileName(first)} vs {Path.GetFileName(second)}: {a.Length} values, max |Δ| = {worst:E2} (max |value| {scale:E2}), tolerance {tolerance}: {(same ? "same map" : "DIFFERENT")}");
    return same ? 0 : 1;
}

if (args is not ["explain", string model, string image, string outDir])
{
    Console.Error.WriteLine("usage: consumer explain MODEL IMAGE OUT_DIR | consumer compare A.npy B.npy TOLERANCE");
    return 2;
}

Directory.CreateDirectory(outDir);

// The README's ML.NET pipeline ("Say it once").
var ml = new MLContext();
IDataView images = ml.Data.LoadFromEnumerable(new[] { new ImageFile { ImagePath = Path.GetFullPath(image) } });
var pipeline = ml.Transforms.LoadImages("image", "", nameof(ImageFile.ImagePath))
    .Append(ml.Transforms.ResizeImages("image", 28, 28)).Append(ml.Transforms.ConvertToGrayscale("image"))
    .Append(ml.Transforms.ExtractPixels("input", "image", ColorBits.Red, offsetImage: 0.2860f * 255, scaleImage: 1 / (0.3530f * 255)))
    .Append(ml.Transforms.ExplainOnnxModel(model, o => o.Method = ExplainMethod.Clrp2));
using var fitted = pipeline.Fit(images);
ExplainedRow row = ml.Data.CreateEnumerable<ExplainedRow>(fitted.Transform(images), reuseRowObject: false).Single();
NpyFile.Write(Path.Combine(outDir, "mlnet.npy"), new Tensor(row.Relevance, [1, 28, 28]));
NpyFile.Write(Path.Combine(outDir, "input.npy"), new Tensor(row.Input, [1, 1, 28, 28]));
Console.WriteLine($"ML.NET pipeline: class {row.ExplainedClass}, p = {row.Probabilities[row.ExplainedClass]:F4}, Σ map = {row.Relevance.Sum():F6}");

// The README's core API on the same input tensor.
var bounds = BoxBounds.FromMeanStd([0.2860f], [0.3530f]);
using var explainer = ClrpExplainer.Load(model, new ExplainerOptions
{
    Method = ExplainMethod.Clrp2,
    Rules = Composites.Paper(bounds),
    Device = Device.Cuda(0, fallbackToCpu: true),
});
Tensor input = NpyFile.Read(Path.Combine(outDir, "input.npy"));
Explanation e = explainer.Explain(input, Target.Predicted);
NpyFile.Write(Path.Combine(outDir, "core.npy"), new Tensor(e.Relevance.Data, [1, 28, 28]));
Console.WriteLine($"core API: class {e.TargetClass} on {e.ExecutionProvider} ({e.Engine} engine), relevance {e.Relevance.ShapeText}, Σ map = {e.Relevance.Data.Sum():F6}");
return row.ExplainedClass == e.TargetClass ? 0 : 1;

/// <summary>The pipeline's input row.</summary>
public sealed class ImageFile
{
    public string ImagePath { get; set; } = "";
}

/// <summary>What the app reads back from the explained row.</summary>
public sealed class ExplainedRow
{
    [VectorType(1, 28, 28)]
    [ColumnName("input")]
    public float[] Input { get; set; } = [];

    [VectorType(10)]
    [ColumnName("probabilities")]
    public float[] Probabilities { get; set; } = [];

    [VectorType(1, 28, 28)]
    public float[] Relevance { get; set; } = [];

    public int ExplainedClass { get; set; }
}
