using Clrp.Cli.Evaluation;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>The resumable results file: row-by-row appends, resume, a torn last row, and files of other runs.</summary>
[TestClass]
public sealed class ResultsFileTests
{
    private static readonly string[] Columns = ["method", "scene", "value"];
    private string _dir = "";

    private string PathOf => System.IO.Path.Combine(_dir, "r.csv");

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Append_WritesEachRowAtOnce_ReadableBeforeDispose()
    {
        using ResultsFile file = ResultsFile.Open(PathOf, "run 1", Columns);
        file.Append(["lrp", "0", "1.5"]);

        // Another reader sees the row while the file is still open: it was flushed.
        using var reader = new StreamReader(new FileStream(PathOf, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        Assert.AreEqual("# run 1\nmethod,scene,value\nlrp,0,1.5\n", reader.ReadToEnd());
    }

    [TestMethod]
    public void Open_ExistingFile_ResumesItsRowsAndDropsATornLastRow()
    {
        File.WriteAllText(PathOf, "# run 1\nmethod,scene,value\nlrp,0,1.5\nlrp,1,2.5\nclrp1,0,3");

        using (ResultsFile file = ResultsFile.Open(PathOf, "run 1", Columns))
        {
            Assert.AreEqual(2, file.Resumed);
            Assert.IsTrue(file.Has("lrp", 1));
            Assert.IsFalse(file.Has("clrp1", 0), "the row without its line end is not finished");
            file.Append(["clrp1", "0", "3.25"]);
        }

        Assert.AreEqual("# run 1\nmethod,scene,value\nlrp,0,1.5\nlrp,1,2.5\nclrp1,0,3.25\n", File.ReadAllText(PathOf));
    }

    [TestMethod]
    public void Open_FileOfAnotherRun_IsRefusedAndLeftAlone()
    {
        const string other = "# run 2\nmethod,scene,value\nlrp,0,1.5\n";
        File.WriteAllText(PathOf, other);

        var e = Assert.ThrowsExactly<InvalidOptionsException>(() => ResultsFile.Open(PathOf, "run 1", Columns));

        StringAssert.Contains(e.Message, "another run");
        Assert.AreEqual(other, File.ReadAllText(PathOf));
    }

    [TestMethod]
    public void Open_MalformedFinishedRow_NamesTheLine()
    {
        File.WriteAllText(PathOf, "# run 1\nmethod,scene,value\nlrp,0\n");

        var e = Assert.ThrowsExactly<InvalidInputException>(() => ResultsFile.Open(PathOf, "run 1", Columns));

        StringAssert.Contains(e.Message, "line 3");
    }

    [TestMethod]
    public void Open_WithoutPath_KeepsRowsInMemory()
    {
        using ResultsFile file = ResultsFile.Open(null, "run", Columns);
        file.Append(["lrp", "4", "1"]);

        Assert.IsTrue(file.TryGet("lrp", 4, out string[] row));
        Assert.AreEqual("1", row[2]);
        Assert.IsFalse(File.Exists(PathOf));
    }
}
