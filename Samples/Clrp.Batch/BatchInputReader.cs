using System.Globalization;
using Clrp.Onnx;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tensors;

namespace Clrp.Batch;

/// <summary>One input read for the network: [1, …] and, for pictures, the resized picture to draw heatmaps over.</summary>
internal sealed record LoadedItem(ManifestEntry Entry, string Sha256, Tensor Tensor, LoadedImage? Image);

/// <summary>
/// Reads an input as <c>clrp explain --input</c> does: a float32 .npy used as stored (one image per file, [C,H,W] or
/// [1,C,H,W]); a picture resized to --size or the model's H×W, grey or RGB after the model's channels, scaled to [0,1]
/// and normalised with --mean/--std. The file is hashed before and after reading, so that the outputs stored under a
/// content hash are always the explanation of that content.
/// </summary>
internal static class BatchInputReader
{
    /// <exception cref="ClrpException">The file is missing, unreadable, not a picture/.npy, or does not fit the model.</exception>
    public static LoadedItem Load(ManifestEntry entry, string sha256, ValueInfo modelInput, BatchSettings settings)
    {
        (Tensor tensor, LoadedImage? image) = entry.Kind == InputKind.Npy ? (ReadNpy(entry, modelInput), null) : ReadPicture(entry, modelInput, settings);
        string after = Hash(entry);
        if (after != sha256)
        {
            throw new InvalidInputException($"'{entry.Name}' changed while it was being read (SHA-256 {sha256[..12]}… before, {after[..12]}… after); it is explained when it no longer changes.");
        }

        return new LoadedItem(entry, sha256, tensor, image);
    }

    /// <summary>The SHA-256 of the input file; an unreadable file is an <see cref="InvalidInputException"/> naming it.</summary>
    public static string Hash(ManifestEntry entry)
    {
        try
        {
            return ContentHash.OfFile(entry.FullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string why = File.Exists(entry.FullPath) ? e.Message : "the file does not exist";
            throw new InvalidInputException($"cannot read input '{entry.Name}': {why}.", e);
        }
    }

    private static Tensor ReadNpy(ManifestEntry entry, ValueInfo modelInput)
    {
        Tensor tensor = NpyFile.Read(entry.FullPath);
        int modelRank = modelInput.Dimensions?.Count ?? tensor.Rank + 1;
        if (tensor.Rank == modelRank - 1)
        {
            return tensor.Reshape([1, .. tensor.Shape]);
        }

        if (tensor.Rank == modelRank && tensor.Shape[0] == 1)
        {
            return tensor;
        }

        string expected = modelInput.ShapeText;
        throw tensor.Rank == modelRank
            ? new InvalidInputException($"'{entry.Name}' holds {tensor.Shape[0]} images {tensor.ShapeText}; batch mode reads one image per file ({expected} with N = 1, or without the batch axis).")
            : new InvalidInputException($"'{entry.Name}' has shape {tensor.ShapeText}; input '{modelInput.Name}' takes {expected} (one image, with or without the batch axis).");
    }

    private static (Tensor Tensor, LoadedImage Image) ReadPicture(ManifestEntry entry, ValueInfo modelInput, BatchSettings settings)
    {
        IReadOnlyList<long?>? dims = modelInput.Dimensions;
        if (dims is null || dims.Count != 4 || dims[1] is not (1 or 3))
        {
            throw new InvalidInputException($"picture '{entry.Name}' cannot feed input '{modelInput.Name}' {modelInput.ShapeText}: pictures need a model input [N,1|3,H,W]; give .npy tensors instead.");
        }

        int channels = (int)dims[1]!.Value;
        (int width, int height) = settings.Size is { } size ? (size[0], size[1])
            : dims[2] is { } h && dims[3] is { } w && h <= int.MaxValue && w <= int.MaxValue ? ((int)w, (int)h)
            : throw new InvalidOptionsException($"input '{modelInput.Name}' {modelInput.ShapeText} has a dynamic height or width: give the picture size with --size W,H.");
        LoadedImage image = ImageLoader.Load(entry.FullPath, width, height, channels, settings.Mean, settings.Std);
        return (image.Tensor, image);
    }

    /// <summary>The shape of one loaded input as text, to group inputs that can share a forward pass.</summary>
    public static string ShapeKey(Tensor tensor) => string.Join('x', tensor.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
}
