using System.Diagnostics;
using System.Globalization;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// Progress of a long run on stderr. On a terminal: a bar redrawn in place (<c>\r</c>) at most five times a
/// second. Otherwise (a log file, a pipe, a test's StringWriter): one line <c>clrp: …</c> at most every
/// <see cref="LineInterval"/>, so logs stay short and quick runs stay silent.
/// </summary>
internal sealed class ProgressReporter
{
    private static readonly TimeSpan BarInterval = TimeSpan.FromMilliseconds(200);

    private readonly TextWriter _stderr;
    private readonly string _label;
    private readonly int _total;
    private readonly bool _terminal;
    private readonly TimeSpan _lineInterval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastShown = TimeSpan.Zero;
    private int _done;
    private int _startedAt;

    /// <param name="stderr">Where progress goes.</param>
    /// <param name="label">What is counted, e.g. "pointing-game scenes".</param>
    /// <param name="total">The count at completion.</param>
    /// <param name="terminal">Draw a bar; null = when <paramref name="stderr"/> is the console's and not redirected.</param>
    /// <param name="lineInterval">Least time between two progress lines off a terminal; null = <see cref="LineInterval"/>.</param>
    public ProgressReporter(TextWriter stderr, string label, int total, bool? terminal = null, TimeSpan? lineInterval = null)
    {
        _stderr = stderr;
        _label = label;
        _total = Math.Max(total, 1);
        _terminal = terminal ?? (ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected);
        _lineInterval = lineInterval ?? LineInterval;
    }

    /// <summary>Least time between two progress lines when stderr is not a terminal.</summary>
    public static TimeSpan LineInterval { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Sets the count already done before this run (resumed rows), which the rate ignores.</summary>
    public void Resume(int done)
    {
        _done = _startedAt = Math.Clamp(done, 0, _total);
    }

    /// <summary>Counts <paramref name="count"/> more that were already done (found finished by a resumed run): they move the bar but not the rate.</summary>
    public void Skip(int count)
    {
        _done = Math.Min(_total, _done + count);
        _startedAt = Math.Min(_done, _startedAt + count);
    }

    /// <summary>Counts <paramref name="count"/> more and shows progress when it is due.</summary>
    public void Advance(int count = 1)
    {
        _done = Math.Min(_total, _done + count);
        TimeSpan now = _clock.Elapsed;
        if (now - _lastShown >= (_terminal ? BarInterval : _lineInterval) || (_terminal && _done == _total))
        {
            _lastShown = now;
            Show(now);
        }
    }

    /// <summary>Ends the bar's line on a terminal.</summary>
    public void Finish()
    {
        if (_terminal)
        {
            Show(_clock.Elapsed);
            _stderr.WriteLine();
        }
    }

    private void Show(TimeSpan elapsed)
    {
        double rate = (_done - _startedAt) / Math.Max(elapsed.TotalSeconds, 1e-9);
        string eta = rate > 0 ? Duration(TimeSpan.FromSeconds((_total - _done) / rate)) : "?";
        string text = string.Create(CultureInfo.InvariantCulture, $"{_done}/{_total} {_label} ({100.0 * _done / _total:0}%), {rate:0.0}/s, {Duration(elapsed)} elapsed, ETA {eta}");
        if (_terminal)
        {
            const int width = 28;
            int filled = (int)Math.Round(width * (double)_done / _total);
            _stderr.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {text}   ");
            _stderr.Flush();
        }
        else
        {
            CliErrors.Info(_stderr, text);
        }
    }

    private static string Duration(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}:{t.Seconds:00}");
}
