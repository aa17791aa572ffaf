using System.Globalization;
using Clrp.Batch;
using Clrp.Cluster.Tests.Support;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Cluster.Tests;

/// <summary>Batch mode's library (Clrp.Batch): outputs against the explainer called directly, resume, torn items, bad inputs.</summary>
[TestClass]
public sealed class BatchJobTests
{
    private static BatchSettings Settings => ReferenceJob.Settings;

    [TestMethod]
    public void EveryMap_EqualsTheExplainerCalledOnThatInputAlone_WhateverTheMiniBatchSize()
    {
        string inputs = TestInputs.WriteScenes(TestInputs.TempDir("solo-in"), 11);
        string eight = TestInputs.TempDir("b8"), one = TestInputs.TempDir("b1");

        BatchJob.Run(Settings, inputs, eight, batchSize: 8, Device.Cpu, null, null);
        BatchJob.Run(Settings, inputs, one, batchSize: 1, Device.Cpu, null, null);

        Trees.AssertSame(one, eight);
        BoxBounds bounds = BoxBounds.FromMeanStd([0.1417f], [0.2478f]);
        using ClrpExplainer explainer = ClrpExplainer.Load(TestInputs.PairVgg, new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = Composites.Paper(bounds), Bounds = bounds });
        var layout = new OutputLayout(eight);
        foreach (string file in Directory.GetFiles(inputs))
        {
            Explanation alone = explainer.Explain(ImageLoader.Load(file, 64, 64, 1, [0.1417f], [0.2478f]).Tensor);
            ItemRecord record = layout.TryReadFinished(ContentHash.OfFile(file))!;
            Assert.AreEqual(alone.TargetClass, record.Predicted);
            CollectionAssert.AreEqual(alone.Logits.Data, record.Logits);
            Tensor map = NpyFile.Read(Path.Combine(layout.ItemFolder(record.Sha256), $"relevance-c{alone.TargetClass}.npy"));
            CollectionAssert.AreEqual(new[] { 1, 64, 64 }, map.Shape);
            CollectionAssert.AreEqual(alone.Relevance.Data, map.Data, $"map of {file}");
        }
    }

    [TestMethod]
    public void ResultsCsv_HasOneRowPerInputInOrder_WithLogitsAndTheSeedSums()
    {
        string inputs = TestInputs.WriteScenes(TestInputs.TempDir("csv-in"), 5);
        string outDir = TestInputs.TempDir("csv-out");

        BatchSummary summary = BatchJob.Run(Settings, inputs, outDir, 8, Device.Cpu, null, null);

        List<string[]> rows = CsvText.Parse(File.ReadAllText(summary.ResultsPath));
        CollectionAssert.AreEqual(ResultsTable.Columns.ToArray(), rows[0]);
        CollectionAssert.AreEqual(Enumerable.Range(0, 5).Select(i => $"scene-{i:0000}.png").ToArray(), rows.Skip(1).Select(r => r[0]).ToArray());
        foreach (string[] row in rows.Skip(1))
        {
            Assert.AreEqual("ok", row[2]);
            float[] logits = [.. row[4].Split(';').Select(v => float.Parse(v, CultureInfo.InvariantCulture))];
            int predicted = int.Parse(row[3], CultureInfo.InvariantCulture);
            Assert.AreEqual(Array.IndexOf(logits, logits.Max()), predicted);
            Assert.AreEqual($"target:{predicted};dual:{predicted}", row[6]);
            double[] seedSums = [.. row[7].Split(';').Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
            // CLRP1 seeds |z_j| at the target and |z_j|/(K−1) on each of the K−1 others: both sum to |z_j|.
            Assert.AreEqual(Math.Abs(logits[predicted]), seedSums[0], 1e-5);
            Assert.AreEqual(Math.Abs(logits[predicted]), seedSums[1], 1e-5);
            Assert.AreEqual($"items/{row[1][..2]}/{row[1]}/relevance-c{predicted}.npy", row[9]);
            Assert.IsTrue(File.Exists(Path.Combine(outDir, row[10])));
        }
    }

    [TestMethod]
    public void Rerun_ReusesFinishedInputs_AndRedoesTornOnes()
    {
        string inputs = TestInputs.WriteScenes(TestInputs.TempDir("resume-in"), 9);
        string outDir = TestInputs.TempDir("resume-out"), pristine = TestInputs.TempDir("resume-first");
        BatchJob.Run(Settings, inputs, outDir, 4, Device.Cpu, null, null);
        CopyTree(outDir, pristine);
        string[] items = [.. Directory.GetDirectories(Path.Combine(outDir, "items"), "*", SearchOption.AllDirectories).Where(d => Path.GetFileName(d).Length == 64).Order(StringComparer.Ordinal)];
        File.Delete(Path.Combine(items[0], "record.json"));                                            // killed before its record
        string png = Directory.GetFiles(items[1], "*.png").Single();
        File.WriteAllBytes(png, File.ReadAllBytes(png)[..100]);                                          // cut short
        File.WriteAllText(Path.Combine(items[2], "record.json"), "{\"sha256\":");                       // torn record
        string npy = Directory.GetFiles(items[3], "*.npy").Single();
        byte[] flipped = File.ReadAllBytes(npy);
        flipped[^1] ^= 1;
        File.WriteAllBytes(npy, flipped);                                                                  // replaced by other bytes

        BatchSummary rerun = BatchJob.Run(Settings, inputs, outDir, 4, Device.Cpu, null, null);

        Assert.AreEqual((4, 5, 0), (rerun.Explained, rerun.Reused, rerun.Failed));
        Trees.AssertSame(pristine, outDir);
    }

    [TestMethod]
    public void BadInputs_BecomeErrorRows_AndTheirMiniBatchNeighboursAreStillExplained()
    {
        string inputs = TestInputs.TempDir("bad-in");
        BoxBounds bounds = BoxBounds.FromMeanStd([0.1417f], [0.2478f]);
        string scenes = TestInputs.WriteScenes(TestInputs.TempDir("bad-scenes"), 6);
        foreach (string file in Directory.GetFiles(scenes))
        {
            // The same scenes as normalised .npy tensors, so that the NaN input shares their mini-batch.
            NpyFile.Write(Path.Combine(inputs, Path.GetFileNameWithoutExtension(file) + ".npy"), ImageLoader.Load(file, 64, 64, 1, [0.1417f], [0.2478f]).Tensor);
        }

        File.Copy(Directory.GetFiles(scenes)[0], Path.Combine(inputs, "picture.png"));
        string[] bad = TestInputs.WriteBadFiles(inputs);
        string outDir = TestInputs.TempDir("bad-out");

        BatchSummary summary = BatchJob.Run(Settings, inputs, outDir, 8, Device.Cpu, null, null);

        Assert.AreEqual((7, 4), (summary.Explained, summary.Failed));
        Dictionary<string, string> status = CsvText.Parse(File.ReadAllText(summary.ResultsPath)).Skip(1).ToDictionary(r => r[0], r => r[2]);
        StringAssert.Contains(status["bad-nan.npy"], "NaN");
        StringAssert.Contains(status["bad-shape.npy"], "[1,3,8,8]");
        StringAssert.StartsWith(status["bad-text.png"], "error: 'bad-text.png' cannot be decoded");
        StringAssert.StartsWith(status["bad-truncated.png"], "error: ");
        Assert.IsFalse(status.Values.Any(s => s.Contains(inputs, StringComparison.Ordinal)), "messages name inputs as listed, not by this machine's path");
        Assert.AreEqual(7, status.Values.Count(s => s == "ok"));
        using ClrpExplainer explainer = ClrpExplainer.Load(TestInputs.PairVgg, new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = Composites.Paper(bounds), Bounds = bounds });
        Tensor x = NpyFile.Read(Path.Combine(inputs, "scene-0003.npy"));
        Explanation alone = explainer.Explain(x);
        string map = Path.Combine(new OutputLayout(outDir).ItemFolder(ContentHash.OfFile(Path.Combine(inputs, "scene-0003.npy"))), $"relevance-c{alone.TargetClass}.npy");
        CollectionAssert.AreEqual(alone.Relevance.Data, NpyFile.Read(map).Data, "the neighbour of the NaN input has its solo map");
    }

    [TestMethod]
    public void ManifestTargets_AndTopK_NameOneMapAndHeatmapPerExplainedClass()
    {
        string inputs = TestInputs.WriteScenes(TestInputs.TempDir("targets-in"), 3);
        string manifest = Path.Combine(inputs, "manifest.csv");
        File.WriteAllText(manifest, "path,target\nscene-0000.png,2\nscene-0001.png,7\nscene-0002.png,\n");

        string byTarget = TestInputs.TempDir("targets-out");
        BatchJob.Run(Settings, manifest, byTarget, 8, Device.Cpu, null, null);
        string topK = TestInputs.TempDir("topk-out");
        BatchJob.Run(Settings with { TopK = 2 }, inputs, topK, 8, Device.Cpu, null, null);

        List<string[]> rows = CsvText.Parse(File.ReadAllText(Path.Combine(byTarget, "results.csv")));
        CollectionAssert.AreEqual(new[] { "2", "7", rows[3][3] }, rows.Skip(1).Select(r => r[5]).ToArray(), "the target column, else the predicted class");
        foreach (string[] row in CsvText.Parse(File.ReadAllText(Path.Combine(topK, "results.csv"))).Skip(1))
        {
            Assert.HasCount(2, row[5].Split(';'));
            Assert.HasCount(2, row[9].Split(';'));
            Assert.HasCount(2, row[10].Split(';'));
            Assert.AreEqual(4, row[6].Split(';').Length, "target and dual seed per class");
        }
    }

    [TestMethod]
    public void OutputFolderOfAnotherJob_IsRefused_TheSameJobIsResumed()
    {
        string inputs = TestInputs.WriteScenes(TestInputs.TempDir("claim-in"), 2);
        string outDir = TestInputs.TempDir("claim-out");
        BatchJob.Run(Settings, inputs, outDir, 8, Device.Cpu, null, null);

        var refused = Assert.ThrowsExactly<InvalidOptionsException>(() => BatchJob.Run(Settings with { Method = "lrp" }, inputs, outDir, 8, Device.Cpu, null, null));
        BatchSummary again = BatchJob.Run(Settings with { ModelPath = Path.GetRelativePath(Environment.CurrentDirectory, TestInputs.PairVgg) }, inputs, outDir, 8, Device.Cpu, null, null);

        StringAssert.Contains(refused.Message, "holds the results of another job");
        Assert.AreEqual(2, again.Reused, "the same model by another path is the same job");
    }

    private static void CopyTree(string from, string to)
    {
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
