using Clrp.Cli;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// <c>clrp info</c> prints names and op types from the file escaped (issue 12, item 9): a newline cannot break its
/// table, terminal escape sequences and bidirectional overrides are shown, not obeyed.
/// </summary>
[TestClass]
public sealed class InfoEscapingTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Info_NamesWithControlCharacters_OneEscapedRowPerNode()
    {
        string model = new OnnxBuilder(13).Input("x\nin", "N", 1L, 4L, 4L).Initializer("w", [.. Enumerable.Repeat(0.1f, 18)], [2, 1, 3, 3])
            .Node("Conv", ["x\nin", "w"], ["c"], "conv\nsecond line")
            .Node("Relu", ["c"], ["r"], "\u001b[2J\u001b[31mred")
            .Node("Flatten", ["r"], ["y"], "\u202eflipped\ttab")
            .Output("y").Save(Path.Combine(_dir, "names.onnx"));

        CliRun run = CliRun.Of("info", "--model", model);

        run.AssertSuccess();
        string[] lines = run.Stdout.TrimEnd('\n').Split('\n');
        // The table runs from the header to the blank line before the closing "explained: …" summary.
        string[] table = lines[(Array.FindIndex(lines, l => l.TrimStart().StartsWith("#", StringComparison.Ordinal)) + 1)..].TakeWhile(l => l.Length > 0).ToArray();
        Assert.HasCount(3, table, run.Stdout);
        StringAssert.Contains(table[0], "conv\\nsecond line");
        StringAssert.Contains(table[1], "\\e[2J\\e[31mred");
        StringAssert.Contains(table[2], "\\u202eflipped\\ttab");
        StringAssert.Contains(run.Stdout, "'x\\nin'");
        Assert.IsFalse(run.Stdout.Any(c => (char.IsControl(c) && c != '\n') || c == '\u202e'), "a raw control character reached stdout");
    }

    [TestMethod]
    public void Info_StrictWithAnUnsupportedNodeNamedWithAnEscape_OneEscapedErrorLine()
    {
        string model = new OnnxBuilder(13).Input("x", 1L, 4L).Node("Sin", ["x"], ["y"], "\u001b]0;title\u0007sin").Output("y").Save(Path.Combine(_dir, "sin.onnx"));

        CliRun run = CliRun.Of("info", "--model", model, "--strict");

        run.AssertBadInput("\\e]0;title\\x07sin");
        Assert.IsFalse(run.Stderr.Any(c => char.IsControl(c) && c != '\n'));
    }

    [TestMethod]
    [DataRow("plain", "plain")]
    [DataRow("a\r\nb", "a\\r\\nb")]
    [DataRow("\u0000\u007f\u0085", "\\x00\\x7f\\x85")]
    [DataRow("\u2066x\u2069", "\\u2066x\\u2069")]
    [DataRow("Grüße ✓", "Grüße ✓")]
    public void Printable_EscapesOnlyWhatMustBe(string text, string expected)
    {
        Assert.AreEqual(expected, Printable.Of(text));
    }

    [TestMethod]
    public void Printable_LoneSurrogateEscaped_PairKept()
    {
        Assert.AreEqual("a\\ud800b", Printable.Of("a" + '\ud800' + "b"));
        Assert.AreEqual("\ud83d\ude00", Printable.Of("\ud83d\ude00"));
    }

    [TestMethod]
    public void Printable_VeryLongName_CutWithAnEllipsis()
    {
        string shown = Printable.Of(new string('n', 100_000));

        Assert.HasCount(Printable.MaxLength, shown);
        Assert.EndsWith("…", shown);
    }
}
