using SkiaSharp;

namespace Clrp.Onnx.Imaging;

/// <summary>The input picture itself as a panel, so that a grid can show image | map | map … at one scale.</summary>
public static partial class HeatmapRenderer
{
    /// <summary>
    /// Draws a W×H RGBA picture (e.g. <see cref="LoadedImage.Rgba"/>) in colour, enlarged by the same pixel-repeating
    /// factor as <see cref="Render(ReadOnlySpan{float}, int, int, HeatmapOptions?)"/> uses for <paramref name="minSide"/>,
    /// so that it lines up with the maps drawn from it.
    /// </summary>
    /// <exception cref="ArgumentException">The bytes do not hold a <paramref name="width"/>×<paramref name="height"/> RGBA picture.</exception>
    public static SKBitmap RenderPicture(byte[] rgba, int width, int height, int minSide = 0)
    {
        ArgumentNullException.ThrowIfNull(rgba);
        if (width <= 0 || height <= 0 || rgba.Length != (long)width * height * 4)
        {
            throw new ArgumentException($"A {width}×{height} RGBA picture needs {(long)width * height * 4} bytes with positive width and height; got {rgba.Length}.", nameof(rgba));
        }

        int factor = (int)EnlargeFactor(minSide, width, height);
        byte[] pixels = factor > 1 ? Enlarge(rgba, width, height, factor) : (byte[])rgba.Clone();
        return ToBitmap(pixels, width * factor, height * factor);
    }
}
