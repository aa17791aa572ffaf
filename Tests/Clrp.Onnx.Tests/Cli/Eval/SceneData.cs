using System.Text;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>Writes small evaluation folders (images.u8.npy, scenes.csv) for tests of bad input.</summary>
internal static class SceneData
{
    public const string Header = "index,class_a,x0_a,y0_a,x1_a,y1_a,class_b,x0_b,y0_b,x1_b,y1_b";

    /// <summary>Writes <paramref name="images"/> grey images of <paramref name="side"/>² zero bytes and the CSV lines as given.</summary>
    public static string Write(string folder, int images, int side, params string[] csvLines)
    {
        Directory.CreateDirectory(folder);
        WriteU8Npy(Path.Combine(folder, "images.u8.npy"), images, 1, side, side);
        File.WriteAllText(Path.Combine(folder, "scenes.csv"), string.Join('\n', csvLines) + "\n");
        return folder;
    }

    /// <summary>A NumPy 1.0 file of uint8 zeros [n, c, h, w], header padded to 64 bytes as NumPy does.</summary>
    public static void WriteU8Npy(string path, int n, int c, int h, int w)
    {
        string dict = $"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n}, {c}, {h}, {w}), }}";
        int total = ((10 + dict.Length + 1 + 63) / 64) * 64;
        string header = dict.PadRight(total - 10 - 1) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, (byte)(header.Length >> 8)]);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(new byte[n * c * h * w]);
    }
}
