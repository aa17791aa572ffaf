using System.Globalization;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tensors;
using SkiaSharp;

namespace Clrp.Samples.MLNet;

/// <summary>Writes each explained image as a heatmap PNG and a relevance .npy, and one CSV line of statistics.</summary>
public sealed class ResultWriter : IDisposable
{
    private static readonly string[] ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
    private readonly string _folder;
    private readonly StreamWriter _csv;

    public ResultWriter(string folder)
    {
        _folder = folder;
        Directory.CreateDirectory(folder);
        _csv = new StreamWriter(Path.Combine(folder, "explanations.csv"));
        _csv.WriteLine("image,predicted_class,class_name,probability,relevance_sum,relevance_max,peak_x,peak_y");
    }

    /// <summary>Writes <c>NAME.heatmap.png</c> (CLRP map over the grey input, enlarged to 224 px) and <c>NAME.relevance.npy</c> [1,28,28].</summary>
    public void Write(ExplainedImage row)
    {
        string name = Path.GetFileNameWithoutExtension(row.ImagePath);
        using (SKBitmap picture = HeatmapRenderer.Render(row.Heatmap, 28, 28, new HeatmapOptions { Overlay = GreyRgba(row.Input), MinSide = 224 }))
        {
            HeatmapRenderer.SavePng(Path.Combine(_folder, name + ".heatmap.png"), picture);
        }

        NpyFile.Write(Path.Combine(_folder, name + ".relevance.npy"), new Tensor((float[])row.Relevance.Clone(), [1, 28, 28]));
        int peak = Array.IndexOf(row.Heatmap, row.Heatmap.Max());
        int cls = row.ExplainedClass;
        _csv.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(row.ImagePath)},{cls},{ClassNames[cls]},{row.Probabilities[cls]:F4},{row.Relevance.Sum():F4},{row.Relevance.Max():G6},{peak % 28},{peak / 28}"));
    }

    public void Dispose() => _csv.Dispose();

    /// <summary>Undoes the normalisation, (x·0.3530 + 0.2860)·255, and repeats the grey value into RGBA for the overlay.</summary>
    private static byte[] GreyRgba(float[] input)
    {
        var rgba = new byte[input.Length * 4];
        for (int i = 0; i < input.Length; i++)
        {
            byte grey = (byte)Math.Clamp(MathF.Round(((input[i] * 0.3530f) + 0.2860f) * 255f), 0f, 255f);
            rgba[4 * i] = rgba[(4 * i) + 1] = rgba[(4 * i) + 2] = grey;
            rgba[(4 * i) + 3] = 255;
        }

        return rgba;
    }
}
