using Clrp.Onnx;

namespace Clrp.Cli;

/// <summary>
/// All of a run's output files, or none (issue 12): each file is first written in full to a temporary file next to
/// its target; only when every one of them is written are they renamed into place. A failure while writing (a heatmap
/// that cannot be drawn, a full disk) leaves no new file and the old ones untouched; a failure while renaming puts
/// back what was there before. Temporary files are hidden (<c>.name.GUID.tmp</c>) and removed on every path.
/// </summary>
internal sealed class OutputSet : IDisposable
{
    private readonly List<(string Target, string Temp)> _staged = [];

    /// <summary>Writes one output through <paramref name="write"/>, which receives the temporary path to write to.</summary>
    /// <param name="path">The output file as the user named it (its folder is created when missing).</param>
    /// <param name="write">Writes the complete file at the path it is given.</param>
    public void Stage(string path, Action<string> write)
    {
        string target = Path.GetFullPath(OutputPaths.Prepare(path));
        if (_staged.Any(s => string.Equals(s.Target, target, StringComparison.Ordinal)))
        {
            throw new InvalidOptionsException($"two outputs of this run are the same file '{path}'; name them differently.");
        }

        string temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        _staged.Add((target, temp));
        write(temp);
    }

    /// <summary>Moves every staged file into place; on failure restores the files that were replaced.</summary>
    /// <exception cref="InvalidOptionsException">A rename failed (names the file and why); nothing new remains.</exception>
    public void Commit()
    {
        var done = new List<(string Target, string? Backup)>();
        try
        {
            foreach ((string target, string temp) in _staged)
            {
                string? backup = null;
                if (File.Exists(target))
                {
                    backup = temp + ".old";
                    File.Move(target, backup);
                }

                done.Add((target, backup));
                File.Move(temp, target);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach ((string target, string? backup) in done)
            {
                TryDelete(target);
                if (backup is not null)
                {
                    try
                    {
                        File.Move(backup, target);
                    }
                    catch (Exception restore) when (restore is IOException or UnauthorizedAccessException)
                    {
                        // Keep the backup where it is rather than lose it; the error below names the target.
                    }
                }
            }

            throw new InvalidOptionsException($"cannot put the outputs in place ({e.Message}); none was written.");
        }

        foreach ((_, string? backup) in done)
        {
            if (backup is not null)
            {
                TryDelete(backup);
            }
        }

        _staged.Clear();
    }

    /// <summary>Removes whatever was staged and not committed.</summary>
    public void Dispose()
    {
        foreach ((_, string temp) in _staged)
        {
            TryDelete(temp);
        }

        _staged.Clear();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The error being reported matters more than a leftover file.
        }
    }
}
