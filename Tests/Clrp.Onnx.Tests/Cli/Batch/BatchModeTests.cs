using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli.Batch;

/// <summary>
/// <c>clrp explain --inputs … --out-dir …</c> end to end through the CLI: its files equal what the single-input command
/// writes for each picture, a rerun resumes, bad files become error rows, and the options are checked.
/// </summary>
[TestClass]
public sealed class BatchModeTests
{
    private static readonly string[] Samples = ["fashion-test-0000-ankle-boot.png", "fashion-test-0001-pullover.png", "fashion-test-0002-trouser.png", "fashion-test-0004-shirt.png"];

    private static string SampleFolder()
    {
        string dir = TestPaths.TempDir();
        foreach (string sample in Samples)
        {
            File.Copy(TestPaths.Model(Path.Combine("samples", sample)), Path.Combine(dir, sample));
        }

        return dir;
    }

    private static CliRun Batch(string inputs, string outDir, params string[] more) =>
        CliRun.Of(["explain", "--model", TestPaths.FashionVgg, "--inputs", inputs, "--out-dir", outDir, "--mean", "0.2860", "--std", "0.3530", .. more]);

    [TestMethod]
    public void FolderOfPictures_WritesTheSameMapsAndHeatmapsAsTheSingleInputCommand()
    {
        string inputs = SampleFolder(), outDir = TestPaths.TempDir();

        CliRun run = Batch(inputs, outDir, "--method", "clrp2");

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "explained: 4, already done: 0, errors: 0");
        Assert.DoesNotContain("error", run.Stderr);
        string[] rows = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        Assert.HasCount(5, rows);
        foreach (string sample in Samples)
        {
            string single = TestPaths.TempDir();
            CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", Path.Combine(inputs, sample), "--mean", "0.2860", "--std", "0.3530",
                "--method", "clrp2", "--out", Path.Combine(single, "map.npy"), "--heatmap", Path.Combine(single, "heat.png")).AssertSuccess();
            string[] row = rows.Single(r => r.StartsWith(sample + ",", StringComparison.Ordinal)).Split(',');
            Assert.AreEqual("ok", row[2]);
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(single, "map.npy")), File.ReadAllBytes(Path.Combine(outDir, row[9])), $"{sample}: relevance");
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(single, "heat.png")), File.ReadAllBytes(Path.Combine(outDir, row[10])), $"{sample}: heatmap");
        }
    }

    [TestMethod]
    public void Rerun_SkipsFinishedInputs_AndExplainsNewOnes()
    {
        string inputs = SampleFolder(), outDir = TestPaths.TempDir();
        Batch(inputs, outDir).AssertSuccess();
        File.Copy(TestPaths.Model("samples/faces/astronaut-64.png"), Path.Combine(inputs, "zz-new.png"));

        CliRun rerun = Batch(inputs, outDir);

        rerun.AssertSuccess();
        StringAssert.Contains(rerun.Stdout, "explained: 1, already done: 4, errors: 0");
        Assert.HasCount(6, File.ReadAllLines(Path.Combine(outDir, "results.csv")));
    }

    [TestMethod]
    public void BadFile_BecomesAnErrorRow_ExitTwoWithOneLineNamingResultsCsv()
    {
        string inputs = SampleFolder(), outDir = TestPaths.TempDir();
        File.WriteAllText(Path.Combine(inputs, "broken.png"), "not a picture");

        CliRun run = Batch(inputs, outDir, "--batch", "3");

        run.AssertBadInput("1 of 5 inputs could not be explained", "results.csv");
        StringAssert.Contains(run.Stdout, "explained: 4, already done: 0, errors: 1");
        string row = File.ReadAllLines(Path.Combine(outDir, "results.csv")).Single(r => r.StartsWith("broken.png,", StringComparison.Ordinal));
        StringAssert.Contains(row, ",error: 'broken.png' cannot be decoded");
    }

    [TestMethod]
    public void ListAndManifestInputs_AreAccepted()
    {
        string inputs = SampleFolder();
        File.WriteAllText(Path.Combine(inputs, "list.txt"), "# two of them\n" + Samples[0] + "\n" + Samples[2] + "\n");
        File.WriteAllText(Path.Combine(inputs, "manifest.csv"), "path,target\n" + Samples[1] + ",3\n");
        string fromList = TestPaths.TempDir(), fromCsv = TestPaths.TempDir();

        Batch(Path.Combine(inputs, "list.txt"), fromList).AssertSuccess();
        Batch(Path.Combine(inputs, "manifest.csv"), fromCsv).AssertSuccess();

        Assert.HasCount(3, File.ReadAllLines(Path.Combine(fromList, "results.csv")));
        string[] row = File.ReadAllLines(Path.Combine(fromCsv, "results.csv"))[1].Split(',');
        Assert.AreEqual("3", row[5], "the manifest's target column names the class");
    }

    [TestMethod]
    public void BadOptions_AreOneLineErrors()
    {
        string inputs = SampleFolder(), outDir = TestPaths.TempDir();
        string model = TestPaths.FashionVgg;

        CliRun.Of("explain", "--model", model, "--inputs", inputs).AssertBadInput("--inputs needs --out-dir");
        CliRun.Of("explain", "--model", model, "--out-dir", outDir).AssertBadInput("--out-dir needs --inputs");
        CliRun.Of("explain", "--model", model, "--inputs", inputs, "--out-dir", outDir, "--input", "x.png").AssertBadInput("--input is for one input");
        CliRun.Of("explain", "--model", model, "--inputs", inputs, "--out-dir", outDir, "--heatmap", "h.png").AssertBadInput("--heatmap is for one input", "--out-dir");
        CliRun.Of("explain", "--model", model, "--inputs", inputs, "--out-dir", outDir, "--batch", "0").AssertBadInput("--batch must be ≥ 1");
        CliRun.Of("explain", "--model", model, "--inputs", Path.Combine(inputs, "missing"), "--out-dir", outDir).AssertBadInput("does not exist");
        CliRun.Of("explain", "--model", model).AssertBadInput("--input' is required", "--inputs");
        Batch(inputs, outDir).AssertSuccess();
        Batch(inputs, outDir, "--method", "lrp").AssertBadInput("holds the results of another job");
    }
}
