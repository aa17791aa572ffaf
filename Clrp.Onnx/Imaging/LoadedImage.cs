using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Imaging;

/// <summary>
/// An image decoded and resized for a model: the network input and, for overlays, the pixels it came from.
/// </summary>
public sealed class LoadedImage
{
    /// <summary>Wraps the results of <see cref="ImageLoader"/> (arrays are not copied).</summary>
    public LoadedImage(Tensor tensor, int width, int height, byte[] rgba)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(rgba);
        if (rgba.Length != (long)width * height * 4)
        {
            throw new ArgumentException($"A {width}×{height} RGBA image needs {(long)width * height * 4} bytes, got {rgba.Length}.", nameof(rgba));
        }

        Tensor = tensor;
        Width = width;
        Height = height;
        Rgba = rgba;
    }

    /// <summary>The network input, shape [1, C, H, W], scaled and normalised as requested.</summary>
    public Tensor Tensor { get; }

    /// <summary>Width of the resized image in pixels (W).</summary>
    public int Width { get; }

    /// <summary>Height of the resized image in pixels (H).</summary>
    public int Height { get; }

    /// <summary>
    /// The resized colour image, row-major, 4 bytes per pixel (R, G, B, A), alpha always 255
    /// (transparency was composited over white). Kept in colour even when the tensor is grey.
    /// </summary>
    public byte[] Rgba { get; }
}
