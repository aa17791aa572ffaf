using System.Security.Cryptography;

namespace Clrp.Batch;

/// <summary>SHA-256 of file contents as lower-case hex: the key of every input's outputs, and the check of every output file.</summary>
public static class ContentHash
{
    /// <summary>Hashes the file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be read (missing, a folder, no permission).</exception>
    public static string OfFile(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            return Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"cannot read '{path}': {e.Message}", e);
        }
    }

    /// <summary>Hashes <paramref name="bytes"/>.</summary>
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
