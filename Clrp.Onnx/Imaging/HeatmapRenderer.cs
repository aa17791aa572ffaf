using System.Runtime.InteropServices;
using Clrp.Onnx.IO;
using Clrp.Onnx.Tensors;
using SkiaSharp;

namespace Clrp.Onnx.Imaging;

/// <summary>
/// Draws 2-D relevance maps as pictures: symmetric normalisation by the absolute maximum, t = v / max|v|,
/// a diverging colour map centred on 0 for signed maps and a sequential one for non-negative maps,
/// an optional overlay on the input image, optional pixel-repeating enlargement, and PNG output.
/// Returned bitmaps belong to the caller, who disposes them.
/// </summary>
public static partial class HeatmapRenderer
{
    /// <summary>
    /// Renders a row-major <paramref name="height"/>×<paramref name="width"/> map. Each pixel gets colour
    /// map(t) with t = v / s, s = <see cref="HeatmapOptions.AbsMax"/> or the largest finite |v|; a map of zeros
    /// (s = 0) and NaN values come out white, never as an error.
    /// </summary>
    /// <exception cref="ArgumentException">The map, overlay or options do not fit <paramref name="width"/>×<paramref name="height"/>.</exception>
    public static SKBitmap Render(ReadOnlySpan<float> map, int width, int height, HeatmapOptions? options = null)
    {
        options ??= new HeatmapOptions();
        CheckArguments(map.Length, width, height, options);

        bool signed = options.Signed ?? HasNegative(map);
        ColorMap colors = signed ? options.DivergingMap : options.SequentialMap;
        float scale = options.AbsMax ?? AbsMax(map);
        // s = 0 only for an all-zero (or all-NaN) map: every t is then 0, i.e. the map's zero colour.
        float inverse = scale > 0 ? 1f / scale : 0f;

        var rgba = new byte[width * height * 4];
        for (int i = 0; i < map.Length; i++)
        {
            float t = map[i] * inverse;
            (byte r, byte g, byte b) = colors.Map(signed ? t : Math.Max(t, 0f));
            rgba[4 * i] = r;
            rgba[(4 * i) + 1] = g;
            rgba[(4 * i) + 2] = b;
            rgba[(4 * i) + 3] = 255;
        }

        if (options.Overlay is not null)
        {
            BlendOverGrey(rgba, options.Overlay, options.OverlayAlpha);
        }

        int factor = (int)EnlargeFactor(options.MinSide, width, height);
        if (factor > 1)
        {
            rgba = Enlarge(rgba, width, height, factor);
        }

        return ToBitmap(rgba, width * factor, height * factor);
    }

    /// <summary>
    /// Renders a tensor of shape [H, W], or [1, …, 1, H, W] (leading axes of length 1), as
    /// <see cref="Render(ReadOnlySpan{float}, int, int, HeatmapOptions?)"/> does. Take one image of a batch
    /// [N, H, W] with <c>tensor.Row(n)</c> and the span overload.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not such a 2-D map.</exception>
    public static SKBitmap Render(Tensor map, HeatmapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Rank < 2 || map.Shape[..^2].Any(d => d != 1))
        {
            throw new ArgumentException($"A heatmap is [H,W] or [1,…,1,H,W]; got shape {map.ShapeText}.", nameof(map));
        }

        return Render(map.Data, map.Shape[^1], map.Shape[^2], options);
    }

    /// <summary>
    /// Encodes <paramref name="bitmap"/> as PNG and writes it atomically (a temporary file in the same folder
    /// replaces <paramref name="path"/>), so a reader never sees half a picture.
    /// </summary>
    /// <exception cref="ImageFormatException">The folder is missing or not writable, or encoding fails; the message names the path.</exception>
    public static void SavePng(string path, SKBitmap bitmap)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(bitmap);
        using SKData? png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        if (png is null)
        {
            throw new ImageFormatException($"cannot encode a {bitmap.Width}×{bitmap.Height} {bitmap.ColorType} picture as PNG for '{path}'.");
        }

        try
        {
            AtomicFile.Write(path, stream => png.SaveTo(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFormatException($"cannot write PNG file '{path}': {e.Message}", e);
        }
    }

    /// <summary>out = α·heat + (1 − α)·grey(image), per channel, with grey = 0.2989 R + 0.5870 G + 0.1140 B.</summary>
    private static void BlendOverGrey(byte[] heat, byte[] image, float alpha)
    {
        for (int p = 0; p < heat.Length; p += 4)
        {
            float grey = 255f * ImageLoader.Grey(image[p] / 255f, image[p + 1] / 255f, image[p + 2] / 255f);
            for (int c = 0; c < 3; c++)
            {
                heat[p + c] = (byte)Math.Clamp(MathF.Round((alpha * heat[p + c]) + ((1 - alpha) * grey)), 0f, 255f);
            }
        }
    }

    /// <summary>Repeats every pixel into a <paramref name="factor"/>×<paramref name="factor"/> block.</summary>
    private static byte[] Enlarge(byte[] rgba, int width, int height, int factor)
    {
        int outWidth = width * factor;
        var result = new byte[rgba.Length * factor * factor];
        ReadOnlySpan<uint> source = MemoryMarshal.Cast<byte, uint>(rgba.AsSpan());
        Span<uint> target = MemoryMarshal.Cast<byte, uint>(result.AsSpan());
        for (int y = 0; y < height * factor; y++)
        {
            ReadOnlySpan<uint> row = source.Slice(y / factor * width, width);
            Span<uint> outRow = target.Slice(y * outWidth, outWidth);
            for (int x = 0; x < outWidth; x++)
            {
                outRow[x] = row[x / factor];
            }
        }

        return result;
    }

    private static SKBitmap ToBitmap(byte[] rgba, int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        IntPtr pixels = bitmap.GetPixels();
        for (int y = 0; y < height; y++)
        {
            Marshal.Copy(rgba, y * width * 4, pixels + (y * bitmap.RowBytes), width * 4);
        }

        // GetPixels handed out raw memory: tell Skia its content changed.
        bitmap.NotifyPixelsChanged();
        return bitmap;
    }

    /// <summary>The smallest k ≥ 1 with k·min(W, H) ≥ <paramref name="minSide"/>.</summary>
    private static long EnlargeFactor(int minSide, int width, int height)
    {
        int shorter = Math.Min(width, height);
        return Math.Max(1, ((long)minSide + shorter - 1) / shorter);
    }

    private static bool HasNegative(ReadOnlySpan<float> map)
    {
        foreach (float v in map)
        {
            if (v < 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Largest finite |v|; infinities would flatten every other value to 0, NaN would poison the maximum.</summary>
    private static float AbsMax(ReadOnlySpan<float> map)
    {
        float max = 0;
        foreach (float v in map)
        {
            if (float.IsFinite(v))
            {
                max = Math.Max(max, Math.Abs(v));
            }
        }

        return max;
    }

    private static void CheckArguments(int length, int width, int height, HeatmapOptions options)
    {
        if (width <= 0 || height <= 0 || (long)width * height != length)
        {
            throw new ArgumentException($"A {width}×{height} heatmap needs {(long)width * height} values with positive width and height; got {length}.");
        }

        if (options.Overlay is not null && options.Overlay.Length != (long)length * 4)
        {
            throw new ArgumentException($"The overlay must be {width}×{height} RGBA ({(long)length * 4} bytes), like the map; got {options.Overlay.Length} bytes.", nameof(options));
        }

        if (!(options.OverlayAlpha is >= 0 and <= 1))
        {
            throw new ArgumentException($"OverlayAlpha must lie in [0, 1]; got {options.OverlayAlpha}.", nameof(options));
        }

        if (options.AbsMax is { } absMax && !(float.IsFinite(absMax) && absMax > 0))
        {
            throw new ArgumentException($"AbsMax must be finite and > 0; got {absMax}.", nameof(options));
        }

        if (!options.DivergingMap.IsDiverging || options.SequentialMap.IsDiverging)
        {
            throw new ArgumentException($"DivergingMap must be diverging and SequentialMap sequential; got {options.DivergingMap} and {options.SequentialMap}.", nameof(options));
        }

        if (options.MinSide < 0)
        {
            throw new ArgumentException($"MinSide must be ≥ 0; got {options.MinSide}.", nameof(options));
        }

        long factor = EnlargeFactor(options.MinSide, width, height);
        // Bound k first so that k² cannot overflow.
        if (factor > ushort.MaxValue || (long)width * height * factor * factor * 4 > Array.MaxLength)
        {
            throw new ArgumentException($"MinSide {options.MinSide} would make a {width}×{height} map too large to hold.", nameof(options));
        }
    }
}
