using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Clrp.Onnx;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// Reads an evaluation folder: <c>images.u8.npy</c> (NumPy uint8, C order, [N, C, H, W]) and <c>scenes.csv</c>
/// (<c>index,class_a,x0_a,y0_a,x1_a,y1_a,class_b,x0_b,y0_b,x1_b,y1_b[,…]</c>, one row per scene). The library's
/// <c>NpyFile</c> reads float32 only, so the byte file is read here. Every defect is an
/// <see cref="InvalidInputException"/> naming the file, the line and what was expected.
/// </summary>
internal static partial class SceneSetReader
{
    public const string ImagesFile = "images.u8.npy";
    public const string ScenesFile = "scenes.csv";

    private static readonly string[] Columns = ["index", "class_a", "x0_a", "y0_a", "x1_a", "y1_a", "class_b", "x0_b", "y0_b", "x1_b", "y1_b"];

    /// <summary>Reads <paramref name="folder"/>, keeping the first <paramref name="limit"/> scenes (all when null).</summary>
    public static SceneSet Read(string folder, int? limit = null)
    {
        if (!Directory.Exists(folder))
        {
            throw new InvalidInputException($"data folder '{folder}' does not exist; it must hold {ImagesFile} and {ScenesFile}.");
        }

        (byte[] pixels, int[] shape) = ReadImages(Path.Combine(folder, ImagesFile));
        IReadOnlyList<Scene> scenes = ReadScenes(Path.Combine(folder, ScenesFile), shape[0], shape[3], shape[2], limit);
        return new SceneSet(folder, pixels, shape[1], shape[2], shape[3], scenes);
    }

    /// <summary>Reads a uint8 .npy file of rank 4; returns its bytes and shape.</summary>
    public static (byte[] Pixels, int[] Shape) ReadImages(string path)
    {
        byte[] file = ReadAll(path);
        const int prefix = 10;
        if (file.Length < prefix || file[0] != 0x93 || Encoding.ASCII.GetString(file, 1, 5) != "NUMPY" || file[6] != 1)
        {
            throw new InvalidInputException($"'{path}' is not a NumPy .npy file of format version 1.0 (it must start with \\x93NUMPY and version byte 1).");
        }

        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        if (prefix + headerLength > file.Length)
        {
            throw new InvalidInputException($"'{path}' is truncated: its header claims {headerLength} bytes, the file holds {file.Length}.");
        }

        string header = Encoding.Latin1.GetString(file, prefix, headerLength);
        Match descr = DescrPattern().Match(header), order = OrderPattern().Match(header), shapeText = ShapePattern().Match(header);
        if (!descr.Success || descr.Groups[1].Value is not ("|u1" or "u1") || !order.Success || order.Groups[1].Value != "False" || !shapeText.Success)
        {
            throw new InvalidInputException($"'{path}' must hold uint8 ('|u1') pixels in C order; its header is {header.Trim()}");
        }

        int[] shape = [.. shapeText.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : -1)];
        if (shape.Length != 4 || shape.Any(d => d <= 0))
        {
            throw new InvalidInputException($"'{path}' must hold images [N,C,H,W] with positive sizes; its shape is ({shapeText.Groups[1].Value}).");
        }

        long expected = (long)shape[0] * shape[1] * shape[2] * shape[3];
        if (file.Length - prefix - headerLength != expected)
        {
            throw new InvalidInputException($"'{path}' holds {file.Length - prefix - headerLength} data bytes; shape ({string.Join(", ", shape)}) needs {expected}.");
        }

        return (file.AsSpan(prefix + headerLength).ToArray(), shape);
    }

    private static List<Scene> ReadScenes(string path, int images, int width, int height, int? limit)
    {
        string[] lines = ReadAllText(path).Split('\n');
        string[] header = lines[0].TrimEnd('\r').Split(',');
        if (header.Length < Columns.Length || !header.Take(Columns.Length).SequenceEqual(Columns))
        {
            throw new InvalidInputException($"'{path}' line 1 must start with the header {string.Join(',', Columns)}; found '{lines[0].TrimEnd('\r')}'.");
        }

        var scenes = new List<Scene>();
        for (int i = 1; i < lines.Length && (limit is null || scenes.Count < limit); i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            scenes.Add(ParseRow(path, i + 1, line, header.Length, images, width, height));
        }

        if (scenes.Count == 0)
        {
            throw new InvalidInputException($"'{path}' holds no scene rows after its header.");
        }

        return scenes;
    }

    private static Scene ParseRow(string path, int lineNumber, string line, int fields, int images, int width, int height)
    {
        string[] parts = line.Split(',');
        var v = new int[Columns.Length];
        for (int f = 0; f < v.Length && parts.Length == fields; f++)
        {
            if (!int.TryParse(parts[f], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v[f]))
            {
                throw Bad(path, lineNumber, line, $"'{Columns[f]}' is not an integer");
            }
        }

        if (parts.Length != fields)
        {
            throw Bad(path, lineNumber, line, $"expected {fields} comma-separated fields like the header, found {parts.Length}");
        }

        if (v[0] < 0 || v[0] >= images)
        {
            throw Bad(path, lineNumber, line, $"index {v[0]} is outside the {images} images of {ImagesFile}");
        }

        var a = new ObjectBox(v[1], v[2], v[3], v[4], v[5]);
        var b = new ObjectBox(v[6], v[7], v[8], v[9], v[10]);
        foreach ((ObjectBox box, string name) in new[] { (a, "a"), (b, "b") })
        {
            if (box.Class < 0 || box.X0 < 0 || box.Y0 < 0 || box.X1 > width || box.Y1 > height || box.X0 >= box.X1 || box.Y0 >= box.Y1)
            {
                throw Bad(path, lineNumber, line, $"object {name} needs a class ≥ 0 and a box 0 ≤ x0 < x1 ≤ {width}, 0 ≤ y0 < y1 ≤ {height}");
            }
        }

        return a.Class == b.Class
            ? throw Bad(path, lineNumber, line, $"both objects have class {a.Class}; a scene holds two different classes")
            : new Scene(v[0], a, b);
    }

    private static InvalidInputException Bad(string path, int lineNumber, string line, string why) =>
        new($"'{path}' line {lineNumber}: {why}: '{(line.Length > 120 ? line[..120] + "…" : line)}'.");

    private static byte[] ReadAll(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot read '{path}': {e.Message}", e);
        }
    }

    private static string ReadAllText(string path) => Encoding.UTF8.GetString(ReadAll(path));

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex OrderPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
