namespace Clrp.Onnx.Imaging;

/// <summary>
/// Limits of <see cref="ImageLoader"/>: a picture's header is read before any pixel is decoded, and a picture larger
/// than <see cref="MaxPixels"/> is refused, so a few hundred bytes claiming 100000×100000 pixels cannot make the
/// process allocate gigabytes (a "decompression bomb").
/// </summary>
public sealed class ImageLoadOptions
{
    /// <summary>64 MP (2^26 pixels, e.g. 8192×8192): 256 MB of RGBA at most while decoding.</summary>
    public const long DefaultMaxPixels = 1L << 26;

    /// <summary>The defaults.</summary>
    public static ImageLoadOptions Default { get; } = new();

    /// <summary>
    /// Largest picture accepted, in pixels, both as stored (width × height from the file's header) and as resized for
    /// the model. Default: <see cref="DefaultMaxPixels"/>. The CLI's <c>--max-pixels</c>.
    /// </summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;
}
