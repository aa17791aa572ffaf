using System.Text;
using Clrp.Onnx;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// The results of a long evaluation, one CSV row per (method, scene), written so that a stopped run loses
/// nothing it finished: each row is appended with one write and flushed before the next is computed, and
/// a restarted run with the same <c>--out</c> reads the finished rows back and skips them. The file opens
/// with an identity line (<c># …</c>: command, model and data hashes, rules, parameters) and the column
/// header; a file written by a different run is refused rather than mixed. A row cut short by a crash
/// (no line end) is dropped and redone. Without a path the rows stay in memory (no resume).
/// </summary>
internal sealed class ResultsFile : IDisposable
{
    private readonly string? _path;
    private readonly int _columns;
    private readonly FileStream? _stream;
    private readonly Dictionary<(string Method, int Scene), string[]> _rows = [];

    private ResultsFile(string? path, int columns, FileStream? stream)
    {
        _path = path;
        _columns = columns;
        _stream = stream;
    }

    /// <summary>How many finished rows the file held when it was opened.</summary>
    public int Resumed { get; private set; }

    /// <summary>Opens (or creates) <paramref name="path"/>, or keeps rows in memory when it is null.</summary>
    /// <param name="path">--out, or null.</param>
    /// <param name="identity">The run's identity, written as the first line <c># identity</c>.</param>
    /// <param name="columns">The column names; the first two are <c>method</c> and <c>scene</c>.</param>
    /// <exception cref="InvalidOptionsException">The file belongs to another run.</exception>
    /// <exception cref="InvalidInputException">The file cannot be read or written, or a finished row is malformed.</exception>
    public static ResultsFile Open(string? path, string identity, IReadOnlyList<string> columns)
    {
        if (path is null)
        {
            return new ResultsFile(null, columns.Count, null);
        }

        string first = "# " + identity, header = string.Join(',', columns);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot open results file '{path}': {e.Message}", e);
        }

        var file = new ResultsFile(path, columns.Count, stream);
        try
        {
            file.Load(first, header);
            return file;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>True when the (method, scene) row is already done.</summary>
    public bool Has(string method, int scene) => _rows.ContainsKey((method, scene));

    /// <summary>The finished row of (method, scene), fields as written.</summary>
    public bool TryGet(string method, int scene, out string[] fields) => _rows.TryGetValue((method, scene), out fields!);

    /// <summary>Appends one row (method, scene, …) and flushes it to the operating system before returning.</summary>
    public void Append(IReadOnlyList<string> fields)
    {
        if (fields.Count != _columns)
        {
            throw new InvalidOperationException($"A results row needs {_columns} fields, got {fields.Count}.");
        }

        string[] row = [.. fields];
        _rows[(row[0], int.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture))] = row;
        if (_stream is not null)
        {
            // One write per row: a kill between rows leaves whole rows; a kill inside a write leaves a line
            // without its end, which the next run drops.
            _stream.Write(Encoding.UTF8.GetBytes(string.Join(',', row) + "\n"));
            _stream.Flush();
        }
    }

    public void Dispose() => _stream?.Dispose();

    private void Load(string first, string header)
    {
        FileStream stream = _stream!;
        byte[] bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        int complete = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        string[] lines = Encoding.UTF8.GetString(bytes, 0, complete).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            stream.SetLength(0);
            stream.Write(Encoding.UTF8.GetBytes(first + "\n" + header + "\n"));
            stream.Flush();
            return;
        }

        if (lines[0] != first || lines.Length < 2 || lines[1] != header)
        {
            throw new InvalidOptionsException($"--out '{_path}' holds the results of another run ({lines[0].TrimStart('#', ' ')}), not of this one ({first[2..]}); choose another --out or delete it.");
        }

        for (int i = 2; i < lines.Length; i++)
        {
            string[] fields = lines[i].Split(',');
            if (fields.Length != _columns || !int.TryParse(fields[1], System.Globalization.CultureInfo.InvariantCulture, out int scene))
            {
                throw new InvalidInputException($"--out '{_path}' line {i + 1} has {fields.Length} fields (expected {_columns}) or no scene number: '{lines[i]}'; the file was not written by this command.");
            }

            _rows.TryAdd((fields[0], scene), fields);
        }

        Resumed = _rows.Count;
        // Drop a last row cut short by a crash, then go on appending after the last complete one.
        stream.SetLength(complete);
        stream.Seek(0, SeekOrigin.End);
    }
}
