using Clrp.Onnx;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli;

/// <summary>What <see cref="InputLoader"/> read: the network input and, for pictures, the pixels for overlays.</summary>
/// <param name="Tensor">The network input, [N, …] or the model's shape without the batch axis (.npy, as stored).</param>
/// <param name="Description">How it was obtained, for the summary.</param>
/// <param name="Image">The resized picture for image inputs; null for .npy.</param>
internal sealed record LoadedInput(Tensor Tensor, string Description, LoadedImage? Image);

/// <summary>
/// Reads <c>--input</c>: a float32 <c>.npy</c> is used as stored; any other file is decoded as an image,
/// resized to <c>--size</c> or the model's fixed H×W, made grey or RGB after the model's channel count,
/// scaled to [0, 1] and normalised with <c>--mean/--std</c> when given.
/// </summary>
internal static class InputLoader
{
    /// <summary>True when <paramref name="path"/> names a NumPy file (by its extension).</summary>
    public static bool IsNpy(string path) => string.Equals(Path.GetExtension(path), ".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loads <paramref name="path"/> for a model whose input is <paramref name="modelInput"/>.</summary>
    /// <param name="path">--input.</param>
    /// <param name="modelInput">The model's image input, whose channels and H×W a picture is fitted to.</param>
    /// <param name="size">--size as (W, H), or null for the model's own H and W.</param>
    /// <param name="mean">--mean for pictures, or null.</param>
    /// <param name="std">--std for pictures, or null.</param>
    /// <param name="images">--max-pixels; null for the defaults.</param>
    /// <exception cref="ClrpException">Unreadable file, or an image that cannot be fitted to the model's input.</exception>
    public static LoadedInput Load(string path, ValueInfo modelInput, (int Width, int Height)? size, float[]? mean, float[]? std, ImageLoadOptions? images = null)
    {
        if (IsNpy(path))
        {
            Tensor tensor = NpyFile.Read(path);
            return new LoadedInput(tensor, $"{path} (.npy {tensor.ShapeText}, used as stored)", null);
        }

        (int channels, int width, int height) = ImageGeometry(path, modelInput, size);
        LoadedImage image = ImageLoader.Load(path, width, height, channels, mean, std, images);
        string colour = channels == 1 ? "grey" : "RGB";
        string normalised = mean is null ? "scaled to [0,1]" : "scaled to [0,1], then (x − mean)/std";
        return new LoadedInput(image.Tensor, $"{path} (image resized to {width}×{height}, {colour}, {normalised}) → {image.Tensor.ShapeText}", image);
    }

    /// <summary>The channel count and the size an image must take to feed <paramref name="modelInput"/> [N, C, H, W].</summary>
    private static (int Channels, int Width, int Height) ImageGeometry(string path, ValueInfo modelInput, (int Width, int Height)? size)
    {
        IReadOnlyList<long?>? dims = modelInput.Dimensions;
        if (dims is null || dims.Count != 4)
        {
            throw new InvalidInputException($"image '{path}' cannot feed input '{modelInput.Name}' {modelInput.ShapeText}: images need a model input [N,C,H,W]; pass a .npy tensor instead.");
        }

        if (dims[1] is not (1 or 3))
        {
            string channels = dims[1]?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "a dynamic number of";
            throw new InvalidInputException($"image '{path}' cannot feed input '{modelInput.Name}' {modelInput.ShapeText}: the model takes {channels} channels, an image gives 1 (grey) or 3 (RGB); pass a .npy tensor instead.");
        }

        if (size is { } given)
        {
            // Checked before anything is decoded or resized: a wrong --size on a fixed-size model used to resize to
            // the requested size first (537 MP for 23170,23170) and only then fail on the shape.
            if ((dims[2] is { } fixedHeight && fixedHeight != given.Height) || (dims[3] is { } fixedWidth && fixedWidth != given.Width))
            {
                throw new InvalidOptionsException($"--size {given.Width},{given.Height} does not fit input '{modelInput.Name}' {modelInput.ShapeText}, whose height and width are fixed: give --size {dims[3]?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "W"},{dims[2]?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "H"} or leave it out.");
            }

            return ((int)dims[1]!.Value, given.Width, given.Height);
        }

        if (dims[2] is not { } height || dims[3] is not { } width || height > int.MaxValue || width > int.MaxValue)
        {
            throw new InvalidOptionsException($"input '{modelInput.Name}' {modelInput.ShapeText} has a dynamic height or width: give the image size with --size W,H.");
        }

        return ((int)dims[1]!.Value, (int)width, (int)height);
    }
}
