using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Clrp.Onnx.IO;

namespace Clrp.Onnx.Tensors;

/// <summary>
/// Reads and writes float32 tensors as NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0):
/// the 6-byte magic <c>\x93NUMPY</c>, a major and minor version byte, the header length
/// (2 bytes little-endian for 1.0, 4 bytes for 2.0/3.0), a Python-dict header
/// (<c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>, Latin-1, UTF-8 for 3.0)
/// padded with spaces and a newline, then the raw elements.
/// Only little-endian float32 (<c>'&lt;f4'</c>) in C order is read or written: <c>np.save(p, a.astype('&lt;f4'))</c>.
/// </summary>
public static class NpyFile
{
    /// <summary>Elements copied per I/O call, so that no byte span exceeds int.MaxValue.</summary>
    private const int ChunkElements = 1 << 20;

    /// <summary>
    /// Reads a little-endian float32, C-order .npy file. Shape <c>()</c> gives a rank-0 tensor of one element,
    /// shape <c>(0,)</c> an empty tensor.
    /// </summary>
    /// <exception cref="NpyFormatException">
    /// The file is missing or unreadable, lacks the magic, has an unknown version or a malformed header,
    /// holds another dtype or Fortran order, or its data is shorter or longer than the shape needs.
    /// The message names the file and what was expected.
    /// </exception>
    public static Tensor Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return Read(stream, path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new NpyFormatException($".npy file '{path}' does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NpyFormatException($"cannot read .npy file '{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes <paramref name="tensor"/> as a float32 (<c>'&lt;f4'</c>), C-order, version 1.0 .npy file,
    /// byte for byte as NumPy's <c>np.save</c> does (header padded to a multiple of 64 bytes).
    /// The file is written atomically: a temporary file in the same folder replaces <paramref name="path"/>.
    /// </summary>
    /// <exception cref="NpyFormatException">The file cannot be written (missing folder, no permission, disk full).</exception>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensor);
        byte[] prefix = NpyHeader.EncodeFloat32(tensor.Shape);
        try
        {
            AtomicFile.Write(path, stream =>
            {
                stream.Write(prefix);
                WriteElements(stream, tensor.Data);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NpyFormatException($"cannot write .npy file '{path}': {e.Message}", e);
        }
    }

    /// <summary>Reads a .npy from <paramref name="stream"/> (seekable, positioned at the magic); <paramref name="path"/> names it in messages.</summary>
    internal static Tensor Read(Stream stream, string path)
    {
        long fileLength = stream.Length;
        const int shortPrefix = NpyHeader.MagicLength + 4;
        if (fileLength < shortPrefix)
        {
            throw new NpyFormatException($"'{path}' is not a .npy file: it holds {fileLength} bytes, fewer than the {shortPrefix} of a .npy prefix.");
        }

        Span<byte> prefix = stackalloc byte[NpyHeader.MagicLength + 6];
        stream.ReadExactly(prefix[..shortPrefix]);
        if (!prefix[..NpyHeader.MagicLength].SequenceEqual(NpyHeader.Magic))
        {
            throw new NpyFormatException($"'{path}' is not a .npy file: it does not start with the magic bytes \\x93NUMPY.");
        }

        byte major = prefix[NpyHeader.MagicLength];
        byte minor = prefix[NpyHeader.MagicLength + 1];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw new NpyFormatException($"'{path}' has .npy format version {major}.{minor}; expected 1.0, 2.0 or 3.0.");
        }

        long headerLength;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[(NpyHeader.MagicLength + 2)..]);
        }
        else
        {
            ReadFully(stream, prefix[shortPrefix..], path, "the 4-byte header length");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[(NpyHeader.MagicLength + 2)..]);
        }

        long headerEnd = stream.Position + headerLength;
        if (headerEnd > fileLength)
        {
            throw new NpyFormatException($"'{path}' is truncated: its header claims {headerLength} bytes but only {fileLength - stream.Position} follow the prefix.");
        }

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        // Version 3.0 exists only to allow UTF-8 (field names); earlier versions are Latin-1.
        Encoding encoding = major == 3 ? Encoding.UTF8 : Encoding.Latin1;
        NpyHeader header = NpyHeader.Parse(encoding.GetString(headerBytes), path);
        CheckFloat32COrder(header, path);

        int count;
        try
        {
            count = Tensor.CheckedCount(header.Shape);
        }
        catch (ArgumentException e)
        {
            throw new NpyFormatException($"'{path}' has shape {Tensor.FormatShape(header.Shape)}, more elements than one array can hold.", e);
        }

        long expectedBytes = (long)count * sizeof(float);
        long actualBytes = fileLength - headerEnd;
        if (actualBytes < expectedBytes)
        {
            throw new NpyFormatException(
                $"'{path}' is truncated: shape {NpyHeader.FormatTuple(header.Shape)} of float32 needs {expectedBytes} data bytes, the file holds {actualBytes}.");
        }

        if (actualBytes > expectedBytes)
        {
            throw new NpyFormatException(
                $"'{path}' has {actualBytes - expectedBytes} bytes after the data: shape {NpyHeader.FormatTuple(header.Shape)} of float32 needs exactly {expectedBytes} data bytes, the file holds {actualBytes}.");
        }

        var data = new float[count];
        ReadElements(stream, data, path);
        return new Tensor(data, header.Shape);
    }

    private static void CheckFloat32COrder(NpyHeader header, string path)
    {
        if (header.Descr != "<f4")
        {
            string hint = header.Descr switch
            {
                ">f4" => "big-endian float32",
                "<f8" or ">f8" => "float64",
                "<f2" or ">f2" => "float16",
                _ => $"dtype '{header.Descr}'",
            };
            throw new NpyFormatException(
                $"'{path}' holds {hint}; expected little-endian float32 ('<f4'). Convert with np.save(path, a.astype('<f4')).");
        }

        if (header.FortranOrder)
        {
            throw new NpyFormatException(
                $"'{path}' is stored in Fortran (column-major) order; expected C order. Convert with np.save(path, np.ascontiguousarray(a)).");
        }
    }

    private static void ReadElements(Stream stream, float[] data, string path)
    {
        for (int start = 0; start < data.Length; start += ChunkElements)
        {
            Span<float> chunk = data.AsSpan(start, Math.Min(ChunkElements, data.Length - start));
            ReadFully(stream, MemoryMarshal.AsBytes(chunk), path, "the tensor data");
            if (!BitConverter.IsLittleEndian)
            {
                Span<int> bits = MemoryMarshal.Cast<float, int>(chunk);
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }
        }
    }

    private static void WriteElements(Stream stream, float[] data)
    {
        int[]? swapped = BitConverter.IsLittleEndian ? null : new int[Math.Min(ChunkElements, data.Length)];
        for (int start = 0; start < data.Length; start += ChunkElements)
        {
            ReadOnlySpan<float> chunk = data.AsSpan(start, Math.Min(ChunkElements, data.Length - start));
            if (swapped is null)
            {
                stream.Write(MemoryMarshal.AsBytes(chunk));
            }
            else
            {
                Span<int> target = swapped.AsSpan(0, chunk.Length);
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(chunk), target);
                stream.Write(MemoryMarshal.AsBytes(target));
            }
        }
    }

    /// <summary>Fills <paramref name="buffer"/>; a short read (the file shrank while read) becomes a message naming the file.</summary>
    private static void ReadFully(Stream stream, Span<byte> buffer, string path, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new NpyFormatException($"'{path}' is truncated: it ends inside {what}.", e);
        }
    }
}
