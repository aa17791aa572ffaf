using System.Globalization;
using Clrp.Batch;
using Clrp.Onnx;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using SkiaSharp;

namespace Clrp.Cli;

/// <summary>
/// Writes <c>--heatmap</c>: the channel-summed map as a PNG, with a diverging colour map centred on 0 for
/// signed maps (LRP, SGLRP, gradients) and a sequential one for the non-negative CLRP maps, laid over the
/// input picture when there is one, enlarged so that small inputs (28×28) stay visible. Several maps
/// (--top-k, a batch) become a grid: one column per explained class, one row per image. A 1-D input's map ([N,C,L]:
/// audio, ECG, text) is drawn as a strip, the channel-summed relevance along L with an 8:1 aspect; a 3-D input's map is
/// refused (there is no single picture of a volume: --out writes it as .npy to view slice by slice).
/// </summary>
internal static class HeatmapWriter
{
    /// <summary>Short side of every panel after pixel-repeating enlargement.</summary>
    private const int MinSide = 224;

    /// <summary>Long side no enlargement may exceed: a 1×100000 map is drawn as it is, not 224 times over (20 GB).</summary>
    private const int MaxEnlargedSide = 8192;

    /// <summary>Largest map drawn at all, in pixels (the picture budget of <see cref="Clrp.Onnx.Imaging.ImageLoadOptions"/>).</summary>
    private const long MaxMapPixels = Clrp.Onnx.Imaging.ImageLoadOptions.DefaultMaxPixels;

    /// <summary>Renders and writes the heatmap(s) of <paramref name="explanation"/>; returns the picture's (width, height).</summary>
    /// <param name="path">The PNG file to write.</param>
    /// <param name="explanation">The maps; their channel sums are drawn.</param>
    /// <param name="overlay">The input picture to draw under the maps, or null.</param>
    public static (int Width, int Height) Write(string path, Explanation explanation, LoadedImage? overlay)
    {
        if (explanation.Relevance.Rank == 6)
        {
            throw new InvalidOptionsException($"--heatmap draws 1-D and 2-D maps; the relevance of a 3-D input has shape {explanation.Relevance.ShapeText} [N,k,C,D,H,W]. Use --out to save it as .npy and view it slice by slice.");
        }

        if (explanation.Relevance.Rank is not (4 or 5))
        {
            throw new InvalidOptionsException($"--heatmap needs an image-shaped input [N,C,H,W] or a 1-D signal [N,C,L]; the relevance has shape {explanation.Relevance.ShapeText}. Use --out to save it.");
        }

        int images = explanation.Heatmap.Shape[0], k = explanation.TargetsPerImage;
        (int width, int height, Func<int, int, float[]> mapOf) = HeatmapMaps.Of(explanation);
        overlay = explanation.Relevance.Rank == 5 ? overlay : null;
        if ((long)width * height * images * k > MaxMapPixels)
        {
            throw new InvalidOptionsException($"--heatmap cannot draw {images * k} map(s) of {width}×{height} pixels (over {MaxMapPixels >> 20} Mi pixels in all); write the relevance with --out instead.");
        }

        HeatmapOptions options = PanelOptions(explanation.Method, width, height, overlay);

        if (images == 1 && k == 1)
        {
            using SKBitmap single = HeatmapRenderer.Render(mapOf(0, 0), width, height, options);
            HeatmapRenderer.SavePng(OutputPaths.Prepare(path), single);
            return (single.Width, single.Height);
        }

        var panels = new List<SKBitmap?[]>();
        try
        {
            for (int img = 0; img < images; img++)
            {
                panels.Add(Enumerable.Range(0, k).Select(i => (SKBitmap?)HeatmapRenderer.Render(mapOf(img, i), width, height, options)).ToArray());
            }

            (IReadOnlyList<string> titles, IReadOnlyList<string>? labels) = Captions(explanation, images, k);
            using SKBitmap grid = HeatmapRenderer.RenderGrid(panels, titles, labels);
            HeatmapRenderer.SavePng(OutputPaths.Prepare(path), grid);
            return (grid.Width, grid.Height);
        }
        finally
        {
            foreach (SKBitmap? panel in panels.SelectMany(row => row))
            {
                panel?.Dispose();
            }
        }
    }

    /// <summary>
    /// One map as a panel, drawn as <c>--heatmap</c> draws it: the diverging map for signed methods, the sequential
    /// one for the non-negative CLRP maps, over <paramref name="overlay"/> when it has the map's size, enlarged.
    /// </summary>
    public static SKBitmap RenderPanel(ReadOnlySpan<float> map, int width, int height, ExplainMethod method, LoadedImage? overlay) =>
        HeatmapRenderer.Render(map, width, height, PanelOptions(method, width, height, overlay));

    /// <summary>The input picture as a panel of the same size as <see cref="RenderPanel"/>'s.</summary>
    public static SKBitmap RenderInput(byte[] rgba, int width, int height) => HeatmapRenderer.RenderPicture(rgba, width, height, PanelSide(width, height));

    private static HeatmapOptions PanelOptions(ExplainMethod method, int width, int height, LoadedImage? overlay) => new()
    {
        Signed = !method.IsContrastive(),
        Overlay = overlay is not null && overlay.Width == width && overlay.Height == height ? overlay.Rgba : null,
        MinSide = PanelSide(width, height),
    };

    /// <summary>
    /// The short side panels are enlarged to: <see cref="MinSide"/>, unless that would push the long side beyond
    /// <see cref="MaxEnlargedSide"/> (extreme aspect ratios), in which case the largest whole factor that fits, or none.
    /// </summary>
    private static int PanelSide(int width, int height)
    {
        int shorter = Math.Min(width, height), longer = Math.Max(width, height);
        long factor = Math.Max(1, MaxEnlargedSide / longer);
        return (int)Math.Min(MinSide, shorter * factor);
    }

    /// <summary>
    /// Column titles "class j (logit z)" when every image explains the same classes (one image, or --target);
    /// otherwise "rank r" with the classes in each row's label.
    /// </summary>
    private static (IReadOnlyList<string> Titles, IReadOnlyList<string>? Labels) Captions(Explanation e, int images, int k)
    {
        bool sameClasses = Enumerable.Range(1, images - 1).All(img => Enumerable.Range(0, k).All(i => e.TargetClassOf(img, i) == e.TargetClassOf(0, i)));
        IReadOnlyList<string>? labels = images == 1 ? null
            : Enumerable.Range(0, images).Select(img => sameClasses
                ? $"image {img}"
                : $"image {img}: {string.Join(", ", Enumerable.Range(0, k).Select(i => e.TargetClassOf(img, i).ToString(CultureInfo.InvariantCulture)))}").ToList();
        IReadOnlyList<string> titles = Enumerable.Range(0, k).Select(i => !sameClasses ? $"rank {i + 1}"
            : images == 1 ? string.Create(CultureInfo.InvariantCulture, $"class {e.TargetClassOf(0, i)} (logit {e.Logits.Row(0)[e.TargetClassOf(0, i)]:0.###})")
            : $"class {e.TargetClassOf(0, i)}").ToList();
        return (titles, labels);
    }
}
