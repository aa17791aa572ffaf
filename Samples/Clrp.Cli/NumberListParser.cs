using System.Globalization;
using Clrp.Onnx;

namespace Clrp.Cli;

/// <summary>
/// Parses the numbers of the command line: single values (<c>--epsilon 1e-6</c>) and comma-separated lists
/// (<c>--mean 0.485,0.456,0.406</c>, <c>--size 224,224</c>), always with the invariant culture, so that a
/// script gives the same result on every machine. Every failure is an <see cref="InvalidOptionsException"/>
/// naming the option and the text.
/// </summary>
internal static class NumberListParser
{
    /// <summary>One finite float, e.g. "-2.1179" or "1e-6".</summary>
    public static float ParseFloat(string option, string text)
    {
        float[] values = ParseFloats(option, text);
        return values.Length == 1 ? values[0] : throw new InvalidOptionsException($"{option} takes one number, got '{text}'.");
    }

    /// <summary>One or more finite floats separated by commas, e.g. "0.485,0.456,0.406".</summary>
    public static float[] ParseFloats(string option, string text) =>
        Split(option, text).Select(part => float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)
            ? v
            : throw new InvalidOptionsException($"{option} expects finite numbers separated by commas, e.g. 0.5 or 0.485,0.456,0.406; '{part}' in '{text}' is not one.")).ToArray();

    /// <summary>One integer within [<paramref name="min"/>, int.MaxValue].</summary>
    public static int ParseInt(string option, string text, int min)
    {
        int[] values = ParseInts(option, text, min);
        return values.Length == 1 ? values[0] : throw new InvalidOptionsException($"{option} takes one integer, got '{text}'.");
    }

    /// <summary>Integers ≥ <paramref name="min"/> separated by commas, e.g. "224,224".</summary>
    public static int[] ParseInts(string option, string text, int min) =>
        Split(option, text).Select(part => int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)
            ? (v >= min ? v : throw new InvalidOptionsException($"{option} must be ≥ {min}, got {v}."))
            : throw new InvalidOptionsException($"{option} expects integers, got '{part}' in '{text}'.")).ToArray();

    private static string[] Split(string option, string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidOptionsException($"{option} needs a value.");
        }

        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Any(p => p.Length == 0))
        {
            throw new InvalidOptionsException($"{option} has an empty entry in '{text}'; separate values by single commas, e.g. 0.485,0.456,0.406.");
        }

        return parts;
    }
}
