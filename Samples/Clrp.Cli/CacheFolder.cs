using Clrp.Onnx;

namespace Clrp.Cli;

/// <summary>
/// Where the CLI keeps compiled explainer graphs between runs (<c>--cache-dir</c>): by default a per-user cache folder —
/// <c>$CLRP_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/clrp</c> or <c>~/.cache/clrp</c> (Linux), <c>~/Library/Caches/clrp</c>
/// (macOS), <c>%LOCALAPPDATA%\clrp\cache</c> (Windows); <c>none</c> turns the cache off.
/// </summary>
internal static class CacheFolder
{
    /// <summary>The --cache-dir help text.</summary>
    public const string Help = "Where compiled explainer graphs are kept between runs, so that the next run with the same model and options starts without compiling (default: a per-user cache folder, $CLRP_CACHE_DIR or ~/.cache/clrp); 'none' turns it off.";

    /// <summary>The folder for <paramref name="option"/> (the --cache-dir value, or null for the default); null when off.</summary>
    public static string? Resolve(string? option)
    {
        string? folder = option?.Trim() switch
        {
            null => Default(),
            "" => throw new InvalidOptionsException("--cache-dir needs a folder, or 'none'."),
            "none" => null,
            string given => given,
        };
        if (folder is null)
        {
            return null;
        }

        try
        {
            Directory.CreateDirectory(folder);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (option is not null)
            {
                throw new InvalidOptionsException($"--cache-dir '{folder}' cannot be created: {e.Message}");
            }

            return null; // the default folder is a convenience: without it, runs simply compile
        }
    }

    private static string? Default()
    {
        if (Environment.GetEnvironmentVariable("CLRP_CACHE_DIR") is { Length: > 0 } env)
        {
            return env.Trim() == "none" ? null : env;
        }

        if (OperatingSystem.IsWindows())
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "clrp", "cache");
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsMacOS())
        {
            return Path.Combine(home, "Library", "Caches", "clrp");
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        return string.IsNullOrEmpty(xdg) && string.IsNullOrEmpty(home) ? null : Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".cache") : xdg, "clrp");
    }
}
