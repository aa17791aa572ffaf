using Clrp.Onnx.Tensors;
using SkiaSharp;

namespace Clrp.Onnx.Imaging;

/// <summary>
/// Turns a PNG or JPEG file into a network input [1, C, H, W]: decode (SkiaSharp), composite transparency over
/// white, resize to W×H with high-quality filtering, scale bytes to [0, 1], convert to grey when C = 1,
/// then normalise each channel: x' = (x − mean[c]) / std[c].
/// </summary>
/// <remarks>
/// The file's header is read first: a picture above <see cref="ImageLoadOptions.MaxPixels"/> is refused before any pixel
/// is decoded, and a large JPEG is decoded scaled down by libjpeg (1/8 … 7/8) to the smallest size still at least the
/// model's W×H, which the high-quality resize then finishes (a 6000×4000 photo for a 224×224 model decodes at 750×500).
/// Transparent pixels are composited over white (x = a·c + (1 − a)), as image viewers show them, rather than
/// dropped: ignoring alpha would expose whatever colour the encoder stored under transparent pixels (often black).
/// No colour management is applied (embedded ICC profiles are ignored), nor EXIF orientation, as PIL does by default.
/// </remarks>
public static class ImageLoader
{
    /// <summary>ITU-R BT.601 luma weights as TensorFlow's rgb_to_grayscale and PIL use them.</summary>
    private const float RedWeight = 0.2989f, GreenWeight = 0.5870f, BlueWeight = 0.1140f;

    /// <summary>
    /// Loads <paramref name="path"/> as a [1, <paramref name="channels"/>, <paramref name="height"/>, <paramref name="width"/>] tensor.
    /// Each value is x = p / 255 for p the 8-bit channel value (for C = 1, x = 0.2989 R + 0.5870 G + 0.1140 B on [0, 1]),
    /// then (x − mean[c]) / std[c]; <paramref name="mean"/> and <paramref name="std"/> hold one value or one per channel,
    /// null means 0 and 1 (no normalisation).
    /// </summary>
    /// <param name="path">A PNG or JPEG file (any format SkiaSharp decodes: also GIF, BMP, WebP).</param>
    /// <param name="width">Width the model expects (W); the image is stretched to it, aspect ratio not kept.</param>
    /// <param name="height">Height the model expects (H).</param>
    /// <param name="channels">1 (grey) or 3 (RGB).</param>
    /// <param name="mean">Per-channel mean on the [0, 1] scale, e.g. ImageNet's 0.485, 0.456, 0.406.</param>
    /// <param name="std">Per-channel standard deviation on the [0, 1] scale, e.g. 0.229, 0.224, 0.225; each &gt; 0.</param>
    /// <param name="options">The pixel budget; null for <see cref="ImageLoadOptions.Default"/>.</param>
    /// <exception cref="ImageFormatException">The file is missing, unreadable, truncated or not an image.</exception>
    /// <exception cref="InvalidInputException"><paramref name="channels"/> is neither 1 nor 3.</exception>
    /// <exception cref="InvalidOptionsException">The size is not positive, or mean/std have the wrong length or values.</exception>
    /// <exception cref="ResourceLimitException">The picture (by its header) or W×H is above <see cref="ImageLoadOptions.MaxPixels"/>.</exception>
    public static LoadedImage Load(string path, int width, int height, int channels = 3, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null, ImageLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ImageLoadOptions.Default;
        CheckOptions($"image '{path}'", width, height, channels, mean, std, options);
        using SKBitmap decoded = Decode(path, width, height, options);
        return Convert(decoded, width, height, channels, mean, std);
    }

    /// <summary>
    /// As <see cref="Load"/>, for an image already in memory (e.g. decoded by the caller or drawn in code).
    /// The caller keeps ownership of <paramref name="image"/>.
    /// </summary>
    /// <exception cref="InvalidInputException"><paramref name="channels"/> is neither 1 nor 3.</exception>
    /// <exception cref="InvalidOptionsException">The size is not positive, or mean/std have the wrong length or values.</exception>
    /// <exception cref="ResourceLimitException">W×H is above <see cref="ImageLoadOptions.MaxPixels"/>.</exception>
    public static LoadedImage FromBitmap(SKBitmap image, int width, int height, int channels = 3, IReadOnlyList<float>? mean = null, IReadOnlyList<float>? std = null, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckOptions("the in-memory image", width, height, channels, mean, std, options ?? ImageLoadOptions.Default);
        return Convert(image, width, height, channels, mean, std);
    }

    /// <summary>
    /// Grey level of an RGB colour on [0, 1]: 0.2989 R + 0.5870 G + 0.1140 B (as TensorFlow's rgb_to_grayscale). A pixel
    /// that is already grey (R = G = B, e.g. every pixel of a grey PNG) keeps its value exactly: the weights sum to 0.9999,
    /// which would otherwise shift every grey input by up to 1e-4.
    /// </summary>
    internal static float Grey(float r, float g, float b) => r == g && g == b ? r : (RedWeight * r) + (GreenWeight * g) + (BlueWeight * b);

    private static LoadedImage Convert(SKBitmap image, int width, int height, int channels, IReadOnlyList<float>? mean, IReadOnlyList<float>? std)
    {
        byte[] rgba = ResizeOverWhite(image, width, height);
        var tensor = new Tensor(1, channels, height, width);
        Span<float> data = tensor.Data;
        int plane = width * height;
        for (int i = 0; i < plane; i++)
        {
            float r = rgba[4 * i] / 255f, g = rgba[(4 * i) + 1] / 255f, b = rgba[(4 * i) + 2] / 255f;
            if (channels == 1)
            {
                data[i] = Normalise(Grey(r, g, b), 0, mean, std);
            }
            else
            {
                data[i] = Normalise(r, 0, mean, std);
                data[plane + i] = Normalise(g, 1, mean, std);
                data[(2 * plane) + i] = Normalise(b, 2, mean, std);
            }
        }

        return new LoadedImage(tensor, width, height, rgba);
    }

    private static float Normalise(float x, int channel, IReadOnlyList<float>? mean, IReadOnlyList<float>? std)
    {
        float m = mean is null ? 0f : mean[mean.Count == 1 ? 0 : channel];
        float s = std is null ? 1f : std[std.Count == 1 ? 0 : channel];
        return (x - m) / s;
    }

    /// <summary>
    /// Draws <paramref name="image"/> stretched onto an opaque white W×H canvas and returns its RGBA bytes.
    /// Compositing happens before resampling, in premultiplied space, so transparent edges do not bleed dark fringes.
    /// </summary>
    private static byte[] ResizeOverWhite(SKBitmap image, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var target = new SKBitmap(info);
        using (var canvas = new SKCanvas(target))
        using (var source = SKImage.FromBitmap(image))
        using (var paint = new SKPaint { IsAntialias = true })
        {
            canvas.Clear(SKColors.White);
            canvas.DrawImage(source, new SKRect(0, 0, width, height), Sampling(image.Width, image.Height, width, height), paint);
        }

        // Opaque everywhere now, so premultiplied bytes equal straight RGBA.
        var rgba = new byte[width * height * 4];
        ReadOnlySpan<byte> pixels = target.GetPixelSpan();
        for (int y = 0; y < height; y++)
        {
            pixels.Slice(y * target.RowBytes, width * 4).CopyTo(rgba.AsSpan(y * width * 4));
        }

        return rgba;
    }

    /// <summary>
    /// The sampling SkiaSharp 2.88's <c>FilterQuality.High</c> chose: none at the image's own size, bilinear from the
    /// nearest mipmap when both sides shrink, Mitchell cubic otherwise. SkiaSharp 3 made that property obsolete and
    /// applies the cubic at every scale (a same-size copy comes out blurred). Checked byte for byte against 2.88.9 on
    /// 64² → 28², 100², 64², 100×40.
    /// </summary>
    private static SKSamplingOptions Sampling(int sourceWidth, int sourceHeight, int width, int height) =>
        sourceWidth == width && sourceHeight == height ? new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None)
        : width < sourceWidth && height < sourceHeight ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Nearest)
        : new SKSamplingOptions(SKCubicResampler.Mitchell);

    /// <summary>
    /// Reads the header, refuses pictures above the budget, then decodes the whole file at the size
    /// <see cref="DecodeSize(SKCodec, int, int)"/> picks; a partial decode (truncated file) is an error, not a half-grey picture.
    /// </summary>
    private static SKBitmap Decode(string path, int width, int height, ImageLoadOptions options)
    {
        using SKCodec codec = OpenCodec(path);
        CheckBudget(path, codec, options);
        SKSizeI size = DecodeSize(codec, width, height);
        // No colour space on the destination: Skia then copies colours as stored, without ICC conversion.
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var bitmap = new SKBitmap(info);
        SKCodecResult result = codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.InvalidScale && size != codec.Info.Size)
        {
            bitmap.Dispose();
            info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
            bitmap = new SKBitmap(info);
            result = codec.GetPixels(info, bitmap.GetPixels());
        }

        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new ImageFormatException($"'{path}' is truncated or corrupt ({result}): expected a complete {codec.EncodedFormat} image.");
        }

        return bitmap;
    }

    /// <summary>The size <see cref="Load"/> decodes <paramref name="path"/> at for a W×H model input (header only; for tests and tools).</summary>
    /// <exception cref="ImageFormatException">The file is missing or not an image.</exception>
    internal static SKSizeI DecodeSize(string path, int width, int height)
    {
        using SKCodec codec = OpenCodec(path);
        return DecodeSize(codec, width, height);
    }

    /// <summary>
    /// The smallest size the codec can decode directly (JPEG: k/8 of the stored size) that still covers W×H, so
    /// that the final resize never enlarges what a full decode would have given; the stored size otherwise (PNG).
    /// </summary>
    private static SKSizeI DecodeSize(SKCodec codec, int width, int height)
    {
        SKSizeI full = codec.Info.Size;
        for (int eighths = 1; eighths < 8; eighths++)
        {
            SKSizeI scaled = codec.GetScaledDimensions(eighths / 8f);
            if (scaled.Width >= width && scaled.Height >= height && scaled.Width < full.Width && scaled.Height < full.Height)
            {
                return scaled;
            }
        }

        return full;
    }

    private static SKCodec OpenCodec(string path)
    {
        if (!File.Exists(path))
        {
            throw new ImageFormatException($"image file '{path}' does not exist.");
        }

        SKCodec? codec = SKCodec.Create(path, out SKCodecResult createResult);
        return codec ?? throw new ImageFormatException($"'{path}' cannot be decoded ({createResult}): expected a PNG or JPEG image.");
    }

    private static void CheckBudget(string path, SKCodec codec, ImageLoadOptions options)
    {
        long pixels = (long)codec.Info.Width * codec.Info.Height;
        if (codec.Info.Width <= 0 || codec.Info.Height <= 0)
        {
            throw new ImageFormatException($"'{path}' declares a {codec.Info.Width}×{codec.Info.Height} picture: expected a positive width and height.");
        }

        if (pixels > options.MaxPixels)
        {
            throw new ResourceLimitException($"image '{path}' is {codec.Info.Width}×{codec.Info.Height} = {Megapixels(pixels)} by its header, above the budget of {Megapixels(options.MaxPixels)} (ImageLoadOptions.MaxPixels, --max-pixels); nothing was decoded.");
        }
    }

    private static string Megapixels(long pixels) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{pixels / 1e6:0.##} MP");

    private static void CheckOptions(string source, int width, int height, int channels, IReadOnlyList<float>? mean, IReadOnlyList<float>? std, ImageLoadOptions options)
    {
        if (options.MaxPixels < 1)
        {
            throw new InvalidOptionsException($"{source}: the pixel budget is {options.MaxPixels}; ImageLoadOptions.MaxPixels must be ≥ 1.");
        }

        if (channels is not (1 or 3))
        {
            throw new InvalidInputException($"{source}: the model wants {channels} channels; an image can feed 1 (grey) or 3 (RGB).");
        }

        if (width <= 0 || height <= 0 || (long)width * height > Array.MaxLength / 4)
        {
            throw new InvalidOptionsException($"{source}: cannot resize to {width}×{height}; expected a positive width and height.");
        }

        if ((long)width * height > options.MaxPixels)
        {
            throw new ResourceLimitException($"{source}: resizing to {width}×{height} = {Megapixels((long)width * height)} is above the budget of {Megapixels(options.MaxPixels)} (ImageLoadOptions.MaxPixels, --max-pixels).");
        }

        CheckStatistic(source, "mean", mean, channels, positive: false);
        CheckStatistic(source, "std", std, channels, positive: true);
    }

    private static void CheckStatistic(string source, string name, IReadOnlyList<float>? values, int channels, bool positive)
    {
        if (values is null)
        {
            return;
        }

        if (values.Count != 1 && values.Count != channels)
        {
            throw new InvalidOptionsException($"{source}: {name} has {values.Count} values; expected 1 or {channels} (one per channel).");
        }

        foreach (float v in values)
        {
            if (!float.IsFinite(v) || (positive && v <= 0))
            {
                string expected = positive ? "finite values > 0" : "finite values";
                throw new InvalidOptionsException($"{source}: {name} contains {v}; expected {expected}.");
            }
        }
    }
}
