using System.CommandLine;
using System.Globalization;
using Clrp.Onnx;
using Clrp.Onnx.Imaging;

namespace Clrp.Cli;

/// <summary>
/// The resource limits that several commands take: <c>--max-pixels</c> (pictures, by their header, and the size they
/// are resized to) and <c>--max-memory</c> (the explainer's memory budget). Sizes accept a suffix: 64M, 2G, 512Mi.
/// </summary>
internal static class ResourceOptions
{
    public static Option<string> MaxPixels() => new("--max-pixels")
    {
        Description = $"Largest picture accepted, in pixels (by the file's header, before decoding) and as resized. Suffixes k, M, G. Default: {ImageLoadOptions.DefaultMaxPixels} (64 MP).",
        HelpName = "N",
    };

    public static Option<string> MaxMemory() => new("--max-memory")
    {
        Description = "Memory budget of one explanation in bytes (suffixes M, G, Mi, Gi), e.g. 2G: a request that cannot fit is refused before anything is allocated, and ONNX Runtime's arena is shrunk after every run. Default: none.",
        HelpName = "BYTES",
    };

    /// <summary>The image options for <c>--max-pixels</c> (the defaults when it is absent).</summary>
    public static ImageLoadOptions ReadImages(ParseResult p, Option<string> maxPixels) =>
        p.GetValue(maxPixels) is { } text ? new ImageLoadOptions { MaxPixels = ParseSize("--max-pixels", text) } : ImageLoadOptions.Default;

    /// <summary>
    /// A positive count with an optional suffix: k/M/G/T (powers of 1000) or Ki/Mi/Gi/Ti (powers of 1024), e.g. 64M, 4Gi.
    /// </summary>
    /// <exception cref="InvalidOptionsException">Not such a count, or 0, or beyond 2^62.</exception>
    public static long ParseSize(string option, string text)
    {
        string t = text.Trim();
        (string suffix, long factor) = new[] { ("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("Ti", 1L << 40), ("k", 1_000L), ("K", 1_000L), ("M", 1_000_000L), ("G", 1_000_000_000L), ("T", 1_000_000_000_000L) }
            .FirstOrDefault(s => t.EndsWith(s.Item1, StringComparison.Ordinal), (string.Empty, 1L));
        string digits = t[..^suffix.Length];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value < 1 || value > (1L << 62) / factor)
        {
            throw new InvalidOptionsException($"{option} expects a positive whole number with an optional suffix k, M, G, Ki, Mi, Gi (e.g. 64M), got '{text}'.");
        }

        return value * factor;
    }
}
