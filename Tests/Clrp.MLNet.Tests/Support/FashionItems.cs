using System.Globalization;
using SkiaSharp;

namespace Clrp.MLNet.Tests.Support;

/// <summary>
/// Single Fashion-MNIST test items cut from the committed two-object scenes (models/data/fashion-pairs-test: uint8
/// [1000,1,64,64] and each item's 28×28 box), written as grey PNGs for ML.NET's LoadImages. A labelled image set for
/// training a head without downloading anything.
/// </summary>
internal static class FashionItems
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "models", "data", "fashion-pairs-test");

    /// <summary>Writes up to <paramref name="perClass"/> items of each class in <paramref name="classes"/> to <paramref name="directory"/>; (path, class) per image.</summary>
    public static List<(string Path, int Class)> Write(string directory, int[] classes, int perClass)
    {
        Directory.CreateDirectory(directory);
        byte[] file = File.ReadAllBytes(Path.Combine(Folder, "images.u8.npy"));
        int headerLength = BitConverter.ToUInt16(file, 8);
        int data = 10 + headerLength;
        var counts = classes.ToDictionary(c => c, _ => 0);
        var written = new List<(string, int)>();
        foreach (string line in File.ReadLines(Path.Combine(Folder, "scenes.csv")).Skip(1))
        {
            int[] f = line.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            foreach ((int cls, int x0, int y0) in new[] { (f[1], f[2], f[3]), (f[6], f[7], f[8]) })
            {
                if (!counts.TryGetValue(cls, out int n) || n >= perClass)
                {
                    continue;
                }

                using var bitmap = new SKBitmap(new SKImageInfo(28, 28, SKColorType.Gray8, SKAlphaType.Opaque));
                Span<byte> pixels = bitmap.GetPixelSpan();
                for (int y = 0; y < 28; y++)
                {
                    for (int x = 0; x < 28; x++)
                    {
                        pixels[(y * bitmap.RowBytes) + x] = file[data + (f[0] * 64 * 64) + ((y0 + y) * 64) + x0 + x];
                    }
                }

                string path = Path.Combine(directory, $"item-{cls}-{n:D3}.png");
                using (SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100))
                {
                    File.WriteAllBytes(path, png.ToArray());
                }

                counts[cls] = n + 1;
                written.Add((path, cls));
            }

            if (counts.Values.All(n => n >= perClass))
            {
                break;
            }
        }

        return written;
    }
}
