using System.Text;

namespace Clrp.Batch;

/// <summary>
/// RFC 4180 CSV fields: a field holding a comma, a quote or a line break is written in double quotes with inner
/// quotes doubled, and read back the same way. Paths and error messages may hold any of these.
/// </summary>
public static class CsvText
{
    /// <summary>Joins <paramref name="fields"/> into one CSV line (without its line end).</summary>
    public static string Line(IEnumerable<string> fields) => string.Join(',', fields.Select(Quote));

    /// <summary>Quotes <paramref name="field"/> when it needs it.</summary>
    public static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Splits CSV text into records of fields; a quoted field may span lines. Blank lines are skipped.</summary>
    /// <exception cref="FormatException">A quoted field is not closed (names the record number).</exception>
    public static List<string[]> Parse(string text)
    {
        var records = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    quoted = true;
                    any = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    any = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    EndRecord();
                    break;
                default:
                    field.Append(c);
                    any = true;
                    break;
            }
        }

        if (quoted)
        {
            throw new FormatException($"record {records.Count + 1} has a quoted field that is never closed.");
        }

        EndRecord();
        return records;

        void EndRecord()
        {
            if (any)
            {
                fields.Add(field.ToString());
                records.Add([.. fields]);
            }

            fields.Clear();
            field.Clear();
            any = false;
        }
    }
}
