using Clrp.Onnx;

namespace Clrp.Cli;

/// <summary>
/// File names given on the command line, checked before any work: an empty name (<c>--out ''</c>), a name that is an
/// existing folder, or one with characters no file system accepts is refused as one line naming the option — the
/// library's writers would throw ArgumentException or IOException for them, which is an exit code 1.
/// </summary>
internal static class PathArguments
{
    /// <summary>A file to read (--model, --input): named and not a folder; whether it exists is the reader's to say.</summary>
    public static string Input(string option, string? text)
    {
        string path = Named(option, text);
        if (Directory.Exists(path))
        {
            throw new InvalidOptionsException($"{option} '{path}' is a folder; expected a file.");
        }

        return path;
    }

    /// <summary>A file to write (--out, --heatmap): named, not a folder, with a file name part.</summary>
    public static string? Output(string option, string? text)
    {
        if (text is null)
        {
            return null;
        }

        string path = Named(option, text);
        if (Directory.Exists(path) || path.EndsWith('/') || path.EndsWith(Path.DirectorySeparatorChar))
        {
            throw new InvalidOptionsException($"{option} '{path}' is a folder; expected a file name, e.g. {option} out/result{(option == "--heatmap" ? ".png" : ".npy")}.");
        }

        return path;
    }

    private static string Named(string option, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidOptionsException($"{option} needs a file name; got an empty one.");
        }

        if (text.IndexOfAny(['\0']) >= 0)
        {
            throw new InvalidOptionsException($"{option} holds a NUL character, which no file name may contain.");
        }

        return text;
    }
}
