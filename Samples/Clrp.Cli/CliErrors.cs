using Clrp.Onnx;

namespace Clrp.Cli;

/// <summary>
/// The CLI's exit codes and its one-line error reports. Scripts rely on them (DESIGN.md §3): 0 success,
/// 2 bad arguments or bad input (every <see cref="ClrpException"/>), 1 an unexpected failure; in both
/// error cases exactly one line <c>clrp: error: &lt;message&gt;</c> on stderr and no stack trace.
/// </summary>
internal static class CliErrors
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int BadInput = 2;

    /// <summary>Writes <c>clrp: error: message</c> as one line and returns <see cref="BadInput"/>.</summary>
    public static int Report(TextWriter stderr, string message)
    {
        stderr.WriteLine("clrp: error: " + OneLine(message));
        return BadInput;
    }

    /// <summary>Maps an exception to its exit code and writes its one-line report.</summary>
    public static int Report(TextWriter stderr, Exception exception) => exception switch
    {
        ClrpException e => Report(stderr, e.Message),
        _ => Unexpected(stderr, exception),
    };

    /// <summary>Writes an informational line, <c>clrp: message</c>.</summary>
    public static void Info(TextWriter stderr, string message) => stderr.WriteLine("clrp: " + OneLine(message));

    private static int Unexpected(TextWriter stderr, Exception exception)
    {
        stderr.WriteLine($"clrp: error: unexpected {exception.GetType().Name}: {OneLine(exception.Message)}");
        return Failure;
    }

    /// <summary>
    /// Folds line breaks so that a report stays one line whatever the message holds, and escapes the other control
    /// characters (a node name from a hostile file may carry terminal escape sequences).
    /// </summary>
    private static string OneLine(string message) =>
        Printable.Of(string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), int.MaxValue);
}
