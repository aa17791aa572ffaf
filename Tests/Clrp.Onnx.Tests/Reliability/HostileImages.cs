using System.Buffers.Binary;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// Pictures written in the test: smooth gradients encoded as PNG or JPEG by SkiaSharp, and "decompression bombs" —
/// a small valid picture whose header is rewritten to claim an enormous size (PNG: the IHDR chunk and its CRC;
/// JPEG: the SOF0 frame header), as issue 12 reproduced them (9.8 KB PNG claiming 100000×100000, 932-byte JPEG
/// claiming 30000×30000).
/// </summary>
internal static class HostileImages
{
    /// <summary>A <paramref name="width"/>×<paramref name="height"/> colour gradient, encoded.</summary>
    public static byte[] Gradient(int width, int height, SKEncodedImageFormat format, int quality = 95)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var rgba = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = 4 * ((y * width) + x);
                rgba[i] = (byte)(255 * x / Math.Max(1, width - 1));
                rgba[i + 1] = (byte)(255 * y / Math.Max(1, height - 1));
                rgba[i + 2] = (byte)(((x / 8) + (y / 8)) % 2 * 200);
                rgba[i + 3] = 255;
            }
        }

        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);

        using SKImage image = SKImage.FromBitmap(bitmap);
        using SKData data = image.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>A 16×16 PNG whose IHDR claims <paramref name="width"/>×<paramref name="height"/> (CRC fixed, so decoders accept the header).</summary>
    public static byte[] PngClaiming(int width, int height)
    {
        byte[] png = Gradient(16, 16, SKEncodedImageFormat.Png);
        // Signature (8 bytes), then IHDR: length (4), "IHDR" (4), width (4), height (4), 5 more bytes, CRC (4).
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    /// <summary>A 16×16 JPEG whose baseline frame header (SOF0) claims <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static byte[] JpegClaiming(int width, int height)
    {
        byte[] jpeg = Gradient(16, 16, SKEncodedImageFormat.Jpeg);
        for (int i = 2; i + 9 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC2)
            {
                // FF C0, length (2), precision (1), height (2), width (2).
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 5), checked((ushort)height));
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 7), checked((ushort)width));
                return jpeg;
            }
        }

        throw new InvalidOperationException("SkiaSharp wrote a JPEG without a SOF0/SOF2 marker.");
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
