using Clrp.Batch;
using Clrp.Cluster.Tests.Support;
using Clrp.Onnx;

namespace Clrp.Cluster.Tests;

/// <summary>How --inputs becomes an ordered list (folder, list, CSV manifest) and how CSV fields are written and read.</summary>
[TestClass]
public sealed class ManifestTests
{
    [TestMethod]
    public void Folder_IsScannedRecursivelyInOrdinalOrder_LeavingOutHiddenFilesOtherFilesAndTheOutputFolder()
    {
        string root = TestInputs.TempDir("scan");
        foreach (string name in new[] { "b.png", "a/z.npy", "a/B.JPG", "C.png", "notes.txt", ".hidden.png", ".cache/x.png", "out/items/x.png" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(root, name))!);
            File.WriteAllText(Path.Combine(root, name), "x");
        }

        InputManifest manifest = InputManifest.Resolve(root, Path.Combine(root, "out"));

        CollectionAssert.AreEqual(new[] { "C.png", "a/B.JPG", "a/z.npy", "b.png" }, manifest.Entries.Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new[] { 0, 1, 2, 3 }, manifest.Entries.Select(e => e.Index).ToArray());
        Assert.AreEqual(InputKind.Npy, manifest.Entries[2].Kind);
        Assert.AreEqual(Path.Combine(root, "a", "z.npy"), manifest.Entries[2].FullPath);
    }

    [TestMethod]
    public void List_SkipsBlankAndCommentLines_AndReadsRelativePathsFromItsFolder()
    {
        string root = TestInputs.TempDir("list");
        string list = Path.Combine(root, "list.txt");
        File.WriteAllText(list, "# validation set\nimages/one.png\n\n  /abs/two.npy  \r\n");

        InputManifest manifest = InputManifest.Resolve(list);

        CollectionAssert.AreEqual(new[] { "images/one.png", "/abs/two.npy" }, manifest.Entries.Select(e => e.Name).ToArray());
        Assert.AreEqual(Path.Combine(root, "images", "one.png"), manifest.Entries[0].FullPath);
    }

    [TestMethod]
    public void Csv_ReadsPathAndTargetColumnsInAnyOrder_WithQuotedPaths()
    {
        string root = TestInputs.TempDir("csv");
        string csv = Path.Combine(root, "manifest.csv");
        File.WriteAllText(csv, "label_name,Target,PATH\nboot,9,\"shoes, 2024/a.png\"\nbag,,b.png\n");

        InputManifest manifest = InputManifest.Resolve(csv);

        CollectionAssert.AreEqual(new[] { "shoes, 2024/a.png", "b.png" }, manifest.Entries.Select(e => e.Name).ToArray());
        CollectionAssert.AreEqual(new int?[] { 9, null }, manifest.Entries.Select(e => e.TargetClass).ToArray());
    }

    [TestMethod]
    public void BadManifests_AreRefusedNamingTheFileAndWhatIsWrong()
    {
        string root = TestInputs.TempDir("bad");
        void Write(string name, string text) => File.WriteAllText(Path.Combine(root, name), text);
        Write("nopath.csv", "file,target\na.png,1\n");
        Write("badtarget.csv", "path,target\na.png,cat\n");
        Write("ragged.csv", "path,target\na.png,1,extra\n");
        Write("empty.txt", "# nothing\n");
        Directory.CreateDirectory(Path.Combine(root, "emptydir"));

        Assert.Contains("no 'path' column", Refusal(Path.Combine(root, "nopath.csv")));
        Assert.Contains("target 'cat' is not a class index", Refusal(Path.Combine(root, "badtarget.csv")));
        Assert.Contains("record 2 has 3 fields", Refusal(Path.Combine(root, "ragged.csv")));
        Assert.Contains("holds no inputs", Refusal(Path.Combine(root, "empty.txt")));
        Assert.Contains("holds no inputs", Refusal(Path.Combine(root, "emptydir")));
        Assert.Contains("does not exist", Refusal(Path.Combine(root, "missing")));
    }

    [TestMethod]
    public void CsvText_QuotesWhatNeedsQuoting_AndParsesItBack()
    {
        string[] fields = ["plain", "with,comma", "with \"quote\"", "two\nlines", ""];

        string line = CsvText.Line(fields);
        List<string[]> parsed = CsvText.Parse(line + "\n" + line + "\r\n");

        Assert.AreEqual("plain,\"with,comma\",\"with \"\"quote\"\"\",\"two\nlines\",", line);
        Assert.HasCount(2, parsed);
        CollectionAssert.AreEqual(fields, parsed[1]);
        Assert.ThrowsExactly<FormatException>(() => CsvText.Parse("a,\"open\n"));
    }

    private static string Refusal(string inputs) => Assert.ThrowsExactly<InvalidOptionsException>(() => InputManifest.Resolve(inputs)).Message;
}
