using System.Globalization;
using System.Text;

namespace Clrp.Cli;

/// <summary>
/// Text from a model file (node names, op types, value names, domains) made safe to print as one table cell: control
/// characters become escapes (<c>\n</c>, <c>\t</c>, <c>\x1b</c>, …) so that a name with a newline cannot break
/// <c>clrp info</c>'s table and one with an ANSI escape sequence cannot recolour or rewrite the terminal; bidirectional
/// overrides (U+202E …) are escaped too, since they reorder what is shown. Very long names are cut with "…".
/// </summary>
internal static class Printable
{
    /// <summary>Names longer than this are shortened (the table stays readable; the escape shows it was cut).</summary>
    public const int MaxLength = 200;

    public static string Of(string? text, int maxLength = MaxLength)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        StringBuilder? escaped = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = char.IsSurrogate(c) && !IsPaired(text, i) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : Escape(c);
            if (replacement is null)
            {
                escaped?.Append(c);
                continue;
            }

            escaped ??= new StringBuilder(text, 0, i, text.Length + 16);
            escaped.Append(replacement);
        }

        string result = escaped?.ToString() ?? text;
        if (result.Length <= maxLength)
        {
            return result;
        }

        int cut = char.IsHighSurrogate(result[maxLength - 2]) ? maxLength - 2 : maxLength - 1;
        return result[..cut] + "…";
    }

    /// <summary>A lone surrogate cannot be printed in UTF-8; a pair (an emoji) is one character and stays.</summary>
    private static bool IsPaired(string text, int i) =>
        char.IsHighSurrogate(text[i]) ? i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) : i > 0 && char.IsHighSurrogate(text[i - 1]);

    private static string? Escape(char c) => c switch
    {
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\u001b' => "\\e",
        _ when char.IsControl(c) => c <= '\u00ff' ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}") : string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
        // Bidirectional embeddings, overrides and isolates; line and paragraph separators.
        _ when c is (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069') or '\u200e' or '\u200f' or '\u2028' or '\u2029' or '\u061c'
            => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
        _ => null,
    };
}
