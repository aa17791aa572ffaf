using Clrp.Onnx;

namespace Clrp.Cli;

/// <summary>
/// Output files named on the command line may sit in folders that do not exist yet (<c>--out out/map.npy</c> on a
/// fresh checkout): the CLI creates them, as users of command-line tools expect. The library's writers do not, so a
/// program that calls them keeps control over its file system.
/// </summary>
internal static class OutputPaths
{
    /// <summary>Creates the folder that will hold <paramref name="path"/>; returns the path unchanged.</summary>
    /// <exception cref="InvalidOptionsException">The folder cannot be created (names the path and why).</exception>
    public static string Prepare(string path)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (string.IsNullOrEmpty(folder) || Directory.Exists(folder))
        {
            return path;
        }

        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOptionsException($"cannot create the folder of '{path}': {e.Message}");
        }

        return path;
    }
}
