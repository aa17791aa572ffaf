using System.Text;

namespace Clrp.Batch;

/// <summary>
/// Writes small text files (record.json, job.json, results.csv) so that a reader sees the old content or the whole
/// new one: a temporary file in the same folder, flushed to disk, then renamed over the target (atomic on one file
/// system). The library's .npy and PNG writers do the same for the maps.
/// </summary>
public static class AtomicText
{
    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark) to <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The folder is missing or the file cannot be written.</exception>
    public static void Write(string path, string text)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(new UTF8Encoding(false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw e as IOException ?? new IOException(e.Message, e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The write error matters more than a leftover temporary file.
        }
    }
}
