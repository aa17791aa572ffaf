using Clrp.MLNet;
using Clrp.Samples.MLNet;
using Microsoft.ML;
using Microsoft.ML.Transforms.Image;

// Explains every PNG/JPEG in a folder with an ML.NET pipeline that ends in AppendExplain, and writes a heatmap
// PNG, a relevance .npy and a CSV line per image. Run from the repository root:
//   dotnet run --project Samples/Clrp.Samples.MLNet -c Release -- --out out/mlnet
try
{
    SampleArguments a = SampleArguments.Parse(args);
    var ml = new MLContext(seed: 0);
    string[] files = Directory.EnumerateFiles(a.Images).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)).Order().ToArray();
    IDataView images = ml.Data.LoadFromEnumerable(files.Select(f => new ImageFile { ImagePath = Path.GetFullPath(f) }));

    ITransformer model;
    if (a.LoadModel is not null)
    {
        model = ClrpModel.Load(ml, a.LoadModel, out _);
    }
    else
    {
        // Fashion-MNIST preprocessing (pixel/255 − 0.2860)/0.3530 = (pixel − 72.93)·0.011109, i.e. ExtractPixels' (pixel − offset)·scale.
        var pipeline = ml.Transforms.LoadImages("image", imageFolder: "", inputColumnName: nameof(ImageFile.ImagePath))
            .Append(ml.Transforms.ResizeImages("image", imageWidth: 28, imageHeight: 28))
            .Append(ml.Transforms.ConvertToGrayscale("image"))
            .Append(ml.Transforms.ExtractPixels("input", "image", ImagePixelExtractingEstimator.ColorBits.Red, offsetImage: 0.2860f * 255f, scaleImage: 1f / (0.3530f * 255f)))
            .Append(ml.Transforms.ApplyOnnxModel(a.Model))
            .AppendExplain(ml, a.Model, o => { o.Mean = [0.2860f]; o.Std = [0.3530f]; });
        model = pipeline.Fit(images);
        if (a.SaveModel is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(a.SaveModel))!);
            ClrpModel.Save(ml, model, images.Schema, a.SaveModel);
        }
    }

    using (model as IDisposable)
    using (var writer = new ResultWriter(a.Output))
    {
        foreach (ExplainedImage row in ml.Data.CreateEnumerable<ExplainedImage>(model.Transform(images), reuseRowObject: false))
        {
            writer.Write(row);
        }
    }

    Console.WriteLine($"explained {files.Length} images from '{a.Images}' into '{a.Output}' (heatmaps, relevance .npy, explanations.csv)");
    return 0;
}
catch (Exception e) when (e is Clrp.Onnx.ClrpException or ArgumentException or IOException or InvalidOperationException)
{
    Console.Error.WriteLine($"clrp-mlnet: error: {e.Message}");
    return 2;
}
