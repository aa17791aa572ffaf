using System.Diagnostics;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Rules;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Clrp.Samples.Web;

/// <summary>
/// Explains uploads with one <see cref="ClrpExplainer"/> per method (LRP, CLRP1, CLRP2, SGLRP), loaded once and shared
/// by every request: <see cref="ClrpExplainer.Explain(Clrp.Onnx.Tensors.Tensor, Target?)"/> may be called from several
/// threads at once. Each upload's header is read first and images over the pixel budget are refused before decoding.
/// </summary>
public sealed class ExplainService : IDisposable
{
    /// <summary>The methods shown side by side, in order.</summary>
    public static readonly (string Name, ExplainMethod Method)[] Methods =
        [("lrp", ExplainMethod.Lrp), ("clrp1", ExplainMethod.Clrp1), ("clrp2", ExplainMethod.Clrp2), ("sglrp", ExplainMethod.Sglrp)];

    private readonly WebExplainerSettings _settings;
    private readonly Dictionary<string, ClrpExplainer> _explainers = [];
    private readonly int _channels, _height, _width;

    public ExplainService(IOptions<WebExplainerSettings> settings)
    {
        _settings = settings.Value;
        ModelPath = Resolve(_settings.Model);
        BoxBounds bounds = BoxBounds.FromMeanStd(_settings.Mean, _settings.Std);
        try
        {
            foreach ((string name, ExplainMethod method) in Methods)
            {
                _explainers[name] = ClrpExplainer.Load(ModelPath, new ExplainerOptions { Method = method, Rules = Composites.Paper(bounds), Bounds = bounds });
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        IReadOnlyList<long?> dims = _explainers["lrp"].Input.Dimensions ?? throw new InvalidGraphException($"model '{ModelPath}' input has an unknown rank; the app needs [N,C,H,W].");
        if (dims.Count != 4 || dims.Skip(1).Any(d => d is not > 0))
        {
            throw new InvalidGraphException($"model '{ModelPath}' input is {_explainers["lrp"].Input.ShapeText}; the app needs a fixed [N,C,H,W] image input.");
        }

        (_channels, _height, _width) = ((int)dims[1]!.Value, (int)dims[2]!.Value, (int)dims[3]!.Value);
    }

    /// <summary>The model file in use.</summary>
    public string ModelPath { get; }

    /// <summary>The settings in use.</summary>
    public WebExplainerSettings Settings => _settings;

    /// <summary>Explains the image in <paramref name="upload"/> for its <paramref name="topK"/> best classes with every method.</summary>
    /// <exception cref="ImageFormatException">Not a PNG/JPEG (or another format SkiaSharp decodes), or truncated.</exception>
    /// <exception cref="ResourceLimitException">More pixels than <see cref="WebExplainerSettings.MaxPixels"/>.</exception>
    /// <exception cref="InvalidTargetException"><paramref name="topK"/> outside [1, min(K, MaxTopK)].</exception>
    public ExplainResponse Explain(byte[] upload, int topK)
    {
        int classes = _settings.Labels.Length;
        if (topK < 1 || topK > _settings.MaxTopK)
        {
            throw new InvalidTargetException($"topK must be between 1 and {_settings.MaxTopK}; got {topK}.");
        }

        using SKBitmap image = Decode(upload);
        LoadedImage loaded = ImageLoader.FromBitmap(image, _width, _height, _channels, _settings.Mean, _settings.Std);
        var clock = Stopwatch.StartNew();
        var explanations = Methods.ToDictionary(m => m.Name, m => _explainers[m.Name].Explain(loaded.Tensor, Target.TopK(topK)));
        Explanation first = explanations["lrp"];
        float[] logits = first.Logits.Row(0).ToArray();
        float[] probabilities = Softmax(logits);
        var result = new List<ExplainedClass>();
        for (int i = 0; i < topK; i++)
        {
            int c = first.TargetClassOf(0, i);
            var maps = Methods.ToDictionary(m => m.Name, m => Png(explanations[m.Name].HeatmapOf(0, i), loaded.Rgba));
            result.Add(new ExplainedClass(c, c < classes ? _settings.Labels[c] : $"class {c}", probabilities[c], logits[c], maps));
        }

        using SKBitmap input = HeatmapRenderer.RenderPicture(loaded.Rgba, _width, _height, MinSide);
        return new ExplainResponse(Path.GetFileName(ModelPath), _width, _height, DataUrl(input), result, clock.ElapsedMilliseconds);
    }

    public void Dispose()
    {
        foreach (ClrpExplainer explainer in _explainers.Values)
        {
            explainer.Dispose();
        }
    }

    private const int MinSide = 168;

    /// <summary>Reads the header, refuses images over the pixel budget, then decodes.</summary>
    private SKBitmap Decode(byte[] upload)
    {
        using var data = SKData.CreateCopy(upload);
        using SKCodec? codec = SKCodec.Create(data) ?? throw new ImageFormatException($"the upload ({upload.Length} bytes) is not an image SkiaSharp can decode (PNG, JPEG, GIF, BMP, WebP).");
        long pixels = (long)codec.Info.Width * codec.Info.Height;
        if (pixels > _settings.MaxPixels)
        {
            throw new ResourceLimitException($"the upload is {codec.Info.Width}×{codec.Info.Height} = {pixels:N0} pixels; the limit is {_settings.MaxPixels:N0}.");
        }

        var bitmap = new SKBitmap(new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        SKCodecResult result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new ImageFormatException($"the upload could not be decoded completely ({result}).");
        }

        return bitmap;
    }

    private string Png(float[] map, byte[] rgba)
    {
        using SKBitmap heat = HeatmapRenderer.Render(map, _width, _height, new HeatmapOptions { Overlay = rgba, MinSide = MinSide });
        return DataUrl(heat);
    }

    private static string DataUrl(SKBitmap bitmap)
    {
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return "data:image/png;base64," + Convert.ToBase64String(png.AsSpan());
    }

    private static float[] Softmax(float[] z)
    {
        double max = z.Max();
        double[] e = z.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => (float)(v / sum)).ToArray();
    }

    /// <summary>A relative model path: next to the app first (the build copies models/ there), then the current folder.</summary>
    private static string Resolve(string path)
    {
        if (Path.IsPathRooted(path))
        {
            return path;
        }

        string beside = Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(beside) ? beside : Path.GetFullPath(path);
    }
}
