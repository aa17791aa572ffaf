using System.Diagnostics;
using Clrp.MLNet.Tests.Support;
using Clrp.Onnx;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Microsoft.ML;

namespace Clrp.MLNet.Tests;

/// <summary>
/// MLContext.Model.Save refuses the explainer with a message naming the workaround; ClrpModel.Save/Load round-trips
/// a whole pipeline, in this process and in new ones.
/// </summary>
[TestClass]
public sealed class PersistenceTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void ModelSave_ChainWithExplainer_ThrowsNotSupportedNamingClrpModel()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        using var model = ml.Transforms.CopyColumns("copy", "input").AppendExplain(ml, Fashion.Options()).Fit(data);
        using var stream = new MemoryStream();
        Exception e = Assert.Throws<Exception>(() => ml.Model.Save(model, data.Schema, stream));
        Exception root = e is NotSupportedException ? e : e.GetBaseException();
        Assert.IsInstanceOfType<NotSupportedException>(root, e.ToString());
        StringAssert.Contains(root.Message, "ClrpModel.Save");
    }

    [TestMethod]
    public void ClrpModelSaveLoad_InProcess_GivesIdenticalMaps()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        using var model = ml.Transforms.CopyColumns("copy", "input")
            .AppendExplain(ml, Fashion.Options(o => { o.Method = ExplainMethod.Clrp2; o.Target = ExplainTarget.Column("Label"); }))
            .Append(ml.Transforms.CopyColumns("RelevanceCopy", "Relevance"))
            .Fit(data);
        string path = Path.Combine(TestContext.TestRunResultsDirectory ?? Path.GetTempPath(), $"pipeline-{Guid.NewGuid():N}.zip");
        ClrpModel.Save(ml, model, data.Schema, path);

        var fresh = new MLContext(seed: 1);
        ITransformer loaded = ClrpModel.Load(fresh, path, out DataViewSchema schema);
        using (loaded as IDisposable)
        {
            Assert.AreEqual(data.Schema.Count, schema.Count);
            var before = ml.Data.CreateEnumerable<FashionExplained>(model.Transform(data), reuseRowObject: false).ToList();
            var after = fresh.Data.CreateEnumerable<FashionExplained>(loaded.Transform(fresh.Data.LoadFromEnumerable(Fashion.Rows())), reuseRowObject: false).ToList();
            for (int i = 0; i < before.Count; i++)
            {
                Assert.AreEqual(before[i].ExplainedClass, after[i].ExplainedClass);
                CollectionAssert.AreEqual(before[i].Relevance, after[i].Relevance, $"row {i}");
            }
        }

        File.Delete(path);
    }

    [TestMethod]
    public void ClrpModelLoad_NotAPipeline_ThrowsModelLoad()
    {
        var ml = new MLContext(seed: 0);
        using var garbage = new MemoryStream([1, 2, 3, 4]);
        Assert.ThrowsExactly<ModelLoadException>(() => ClrpModel.Load(ml, garbage, out _));
        Assert.ThrowsExactly<ModelLoadException>(() => ClrpTransformer.Load(ml, new MemoryStream("CLRPMLNT"u8.ToArray())));
    }

    [TestMethod]
    public void Sample_SaveThenLoadInNewProcesses_WritesIdenticalMapsEqualToTheCore()
    {
        string root = Path.Combine(Path.GetTempPath(), $"clrp-mlnet-{Guid.NewGuid():N}");
        string model = Path.Combine(root, "pipeline.zip");
        Directory.CreateDirectory(root);
        try
        {
            RunSample("--out", Path.Combine(root, "saved"), "--save-model", model);
            RunSample("--out", Path.Combine(root, "loaded"), "--load-model", model);

            BoxBounds bounds = BoxBounds.FromMeanStd(Fashion.Mean, Fashion.Std);
            using ClrpExplainer core = ClrpExplainer.Load(Fashion.Model, new ExplainerOptions { Bounds = bounds });
            List<FashionRow> rows = Fashion.Rows();
            Assert.IsNotEmpty(rows);
            foreach (FashionRow row in rows)
            {
                string name = Path.GetFileNameWithoutExtension(row.Name) + ".relevance.npy";
                float[] saved = NpyFile.Read(Path.Combine(root, "saved", name)).Data;
                CollectionAssert.AreEqual(saved, NpyFile.Read(Path.Combine(root, "loaded", name)).Data, $"{name}: the loading process differs");
                // The core's grey is 0.2989R + 0.5870G + 0.1140B (weights sum to 0.9999), ML.NET's ExtractPixels reads the grey value as is: inputs differ by ≤ 3e-4.
                Assertions.AllClose(core.Explain(row.Input, [1, 1, 28, 28]).Relevance.Data, saved, 1e-4, name);
            }

            Assert.AreEqual(File.ReadAllText(Path.Combine(root, "saved", "explanations.csv")), File.ReadAllText(Path.Combine(root, "loaded", "explanations.csv")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void Fit_GpuFromMLContext_UsesCudaOrReportsItUnavailable()
    {
        var ml = new MLContext(seed: 0) { GpuDeviceId = 0, FallbackToCpu = false };
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        try
        {
            using ClrpTransformer explainer = data is null ? throw new InvalidOperationException() : new ClrpEstimator(Fashion.Options(), ml).Fit(data);
            Assert.AreEqual("CUDA:0", explainer.ExecutionProvider);
        }
        catch (DeviceUnavailableException e)
        {
            StringAssert.Contains(e.Message, "CUDA device 0");
        }

        ml.FallbackToCpu = true;
        using ClrpTransformer fallback = new ClrpEstimator(Fashion.Options(), ml).Fit(data);
        StringAssert.Matches(fallback.ExecutionProvider, new System.Text.RegularExpressions.Regex("^(CPU|CUDA:0)$"));
    }

    private static void RunSample(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Clrp.Samples.MLNet.dll"));
        start.ArgumentList.Add("--images");
        start.ArgumentList.Add(Fashion.Samples);
        start.ArgumentList.Add("--model");
        start.ArgumentList.Add(Fashion.Model);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.IsTrue(process.WaitForExit(120_000), "sample timed out");
        Assert.AreEqual(0, process.ExitCode, output);
    }
}
