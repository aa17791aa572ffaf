using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace Clrp.Cluster.Tests.Support;

/// <summary>
/// Input folders for batch jobs: two-object Fashion-MNIST scenes (64×64 grey, from the committed
/// models/data/fashion-pairs-test/images.u8.npy) written as PNG files, and bad files of several kinds.
/// </summary>
internal static class TestInputs
{
    public static string Model(string file) => Path.Combine(AppContext.BaseDirectory, "models", file);

    /// <summary>fashion-pair-vgg, the multi-label scene classifier (64×64 grey; mean 0.1417, std 0.2478).</summary>
    public static string PairVgg => Model("fashion-pair-vgg.onnx");

    /// <summary>A fresh temporary folder.</summary>
    public static string TempDir(string label)
    {
        string dir = Path.Combine(Path.GetTempPath(), "clrp-cluster-tests", $"{label}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Writes scenes <paramref name="first"/> … <paramref name="first"/>+<paramref name="count"/>−1 as scene-NNNN.png.</summary>
    public static string WriteScenes(string folder, int count, int first = 0)
    {
        Directory.CreateDirectory(folder);
        byte[] all = File.ReadAllBytes(Model("images.u8.npy"));
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(all.AsSpan(8));
        string header = Encoding.Latin1.GetString(all, 10, headerLength);
        Assert.Contains("(1000, 1, 64, 64)", header, "the committed scenes changed shape");
        const int side = 64;
        for (int i = first; i < first + count; i++)
        {
            using var bitmap = new SKBitmap(side, side, SKColorType.Gray8, SKAlphaType.Opaque);
            System.Runtime.InteropServices.Marshal.Copy(all, 10 + headerLength + (i * side * side), bitmap.GetPixels(), side * side);
            using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(folder, $"scene-{i:0000}.png"), png.ToArray());
        }

        return folder;
    }

    /// <summary>Adds bad inputs: a truncated PNG, a text file named .png, a .npy holding NaN, a .npy of the wrong shape.</summary>
    public static string[] WriteBadFiles(string folder)
    {
        string sceneFile = Directory.GetFiles(folder, "*.png").OrderBy(f => f, StringComparer.Ordinal).First();
        byte[] png = File.ReadAllBytes(sceneFile);
        File.WriteAllBytes(Path.Combine(folder, "bad-truncated.png"), png[..(png.Length / 3)]);
        File.WriteAllText(Path.Combine(folder, "bad-text.png"), "this is not a picture\n");
        var nan = new float[64 * 64];
        nan[100] = float.NaN;
        Onnx.Tensors.NpyFile.Write(Path.Combine(folder, "bad-nan.npy"), new Onnx.Tensors.Tensor(nan, [1, 64, 64]));
        Onnx.Tensors.NpyFile.Write(Path.Combine(folder, "bad-shape.npy"), new Onnx.Tensors.Tensor(new float[3 * 8 * 8], [3, 8, 8]));
        return ["bad-nan.npy", "bad-shape.npy", "bad-text.png", "bad-truncated.png"];
    }
}
