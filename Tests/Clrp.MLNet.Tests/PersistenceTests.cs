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
            Assert.IsGreaterThanOrEqualTo(4, before.Count, "the sample rows");
            Assert.HasCount(before.Count, after);
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
            // The saving process reads a copy of the model that is moved away before the loading process starts: the
            // pipeline file must carry the model itself.
            string onnx = Path.Combine(root, "fashion-vgg.onnx");
            File.Copy(Fashion.Model, onnx);
            RunSample(onnx, "--out", Path.Combine(root, "saved"), "--save-model", model);
            File.Move(onnx, onnx + ".moved");
            RunSample(onnx, "--out", Path.Combine(root, "loaded"), "--load-model", model);

            BoxBounds bounds = BoxBounds.FromMeanStd(Fashion.Mean, Fashion.Std);
            using ClrpExplainer core = ClrpExplainer.Load(Fashion.Model, new ExplainerOptions { Bounds = bounds });
            List<FashionRow> rows = Fashion.Rows();
            Assert.IsGreaterThanOrEqualTo(4, rows.Count, "the sample images");
            foreach (FashionRow row in rows)
            {
                string name = Path.GetFileNameWithoutExtension(row.Name) + ".relevance.npy";
                float[] saved = NpyFile.Read(Path.Combine(root, "saved", name)).Data;
                CollectionAssert.AreEqual(saved, NpyFile.Read(Path.Combine(root, "loaded", name)).Data, $"{name}: the loading process differs");
                // The core's grey is 0.2989R + 0.5870G + 0.1140B (weights sum to 0.9999), ML.NET's ExtractPixels reads the
                // grey value as is: inputs differ by ≤ 3e-4. Relative L2, since the maps' values average 7e-5 (an absolute
                // 1e-4 passed on anything).
                Assertions.RelativeL2Below(core.Explain(row.Input, [1, 1, 28, 28]).Relevance.Data, saved, 2e-2, name);
            }

            Assert.AreEqual(File.ReadAllText(Path.Combine(root, "saved", "explanations.csv")), File.ReadAllText(Path.Combine(root, "loaded", "explanations.csv")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [TestMethod]
    public void ClrpModelLoad_OneModelByteTampered_ThrowsModelLoad()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        using var model = ml.Transforms.CopyColumns("copy", "input").AppendExplain(ml, Fashion.Options()).Fit(data);
        string path = Path.Combine(Path.GetTempPath(), $"pipeline-{Guid.NewGuid():N}.zip");
        ClrpModel.Save(ml, model, data.Schema, path);
        try
        {
            // One byte of a weight in the middle of the stored explainer (its ONNX model), the zip rewritten around it.
            using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
            {
                System.IO.Compression.ZipArchiveEntry entry = zip.Entries.OrderByDescending(e => e.Length).First();
                byte[] bytes;
                using (Stream s = entry.Open())
                using (var copy = new MemoryStream())
                {
                    s.CopyTo(copy);
                    bytes = copy.ToArray();
                }

                bytes[bytes.Length / 2] ^= 0x01;
                string name = entry.FullName;
                entry.Delete();
                using Stream w = zip.CreateEntry(name).Open();
                w.Write(bytes);
            }

            var e = Assert.ThrowsExactly<ModelLoadException>(() => ClrpModel.Load(new MLContext(seed: 1), path, out _));
            StringAssert.Contains(e.Message, "SHA-256");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ClrpModelSaveLoad_NonDefaultEpsilonGamma_KeptAndHonoured()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        void Rules(ClrpExplainOptions o, float epsilon, float gamma)
        {
            o.Method = ExplainMethod.Lrp;
            o.Rules = "epsilon-gamma-box";
            o.Epsilon = epsilon;
            o.Gamma = gamma;
        }

        using var custom = ml.Transforms.CopyColumns("copy", "input").AppendExplain(ml, Fashion.Options(o => Rules(o, 0.1f, 1.0f))).Fit(data);
        using var defaults = ml.Transforms.CopyColumns("copy", "input").AppendExplain(ml, Fashion.Options(o => Rules(o, 1e-6f, 0.25f))).Fit(data);
        string path = Path.Combine(Path.GetTempPath(), $"pipeline-{Guid.NewGuid():N}.zip");
        ClrpModel.Save(ml, custom, data.Schema, path);
        try
        {
            var fresh = new MLContext(seed: 1);
            ITransformer loaded = ClrpModel.Load(fresh, path, out _);
            using (loaded as IDisposable)
            {
                float[] Relevance(MLContext c, ITransformer t) => c.Data.CreateEnumerable<FashionExplained>(t.Transform(c.Data.LoadFromEnumerable(Fashion.Rows())), reuseRowObject: false).First().Relevance;
                float[] saved = Relevance(ml, custom), reloaded = Relevance(fresh, loaded), standard = Relevance(ml, defaults);
                CollectionAssert.AreEqual(saved, reloaded, "ε = 0.1, γ = 1 survive ClrpModel.Save/Load");
                double difference = Math.Sqrt(saved.Zip(standard, (a, b) => (double)(a - b) * (a - b)).Sum() / standard.Sum(v => (double)v * v));
                Assert.IsGreaterThan(0.05, difference, "ε/γ must change the map (else this test could not fail)");
                using ClrpExplainer core = ClrpExplainer.Load(Fashion.Model, new ExplainerOptions
                {
                    Method = ExplainMethod.Lrp,
                    Rules = Clrp.Onnx.Composites.Composites.ByName("epsilon-gamma-box", BoxBounds.FromMeanStd(Fashion.Mean, Fashion.Std), 0.1f, 1.0f),
                });
                Assertions.RelativeL2Below(core.Explain(Fashion.Rows()[0].Input, [1, 1, 28, 28]).Relevance.Data, reloaded, 1e-5, "reloaded vs the core at ε = 0.1, γ = 1");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ClrpModelSaveLoad_EngineChoice_KeptAndHonoured()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        using var managed = ml.Transforms.ExplainClrp(Fashion.Options(o => o.Engine = ExplainerEngine.Managed)).Fit(data);
        using var auto = ml.Transforms.ExplainClrp(Fashion.Options()).Fit(data);
        float[] Relevance(MLContext c, ITransformer t) => c.Data.CreateEnumerable<FashionExplained>(t.Transform(c.Data.LoadFromEnumerable(Fashion.Rows())), reuseRowObject: false).First().Relevance;
        float[] byManaged = Relevance(ml, managed), byCompiled = Relevance(ml, auto);
        Assert.AreEqual("managed", managed.Engine);
        Assert.AreEqual("compiled", auto.Engine, "fashion-vgg compiles: Auto runs the compiled graph");
        Assertions.RelativeL2Below(byManaged, byCompiled, 1e-5, "the two engines in ML.NET");

        using var stream = new MemoryStream();
        managed.Save(stream);
        stream.Position = 0;
        using ClrpTransformer loaded = ClrpTransformer.Load(new MLContext(seed: 1), stream);
        Assert.AreEqual(ExplainerEngine.Managed, loaded.Options.Engine);
        CollectionAssert.AreEqual(byManaged, Relevance(ml, loaded), "the reloaded transformer still walks with the managed engine");
        Assert.AreEqual("managed", loaded.Engine);
    }

    /// <summary>
    /// With a GPU, the explainer runs on CUDA; without one (no /dev/nvidia0, as on CI) fallback off must be a
    /// DeviceUnavailableException — a test that accepted either outcome could not fail.
    /// </summary>
    [TestMethod]
    public void Fit_GpuFromMLContext_UsesCudaOrReportsItUnavailable()
    {
        var ml = new MLContext(seed: 0) { GpuDeviceId = 0, FallbackToCpu = false };
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        if (File.Exists("/dev/nvidia0"))
        {
            using ClrpTransformer explainer = new ClrpEstimator(Fashion.Options(), ml).Fit(data);
            Assert.AreEqual("CUDA:0", explainer.ExecutionProvider);
        }
        else
        {
            var e = Assert.ThrowsExactly<DeviceUnavailableException>(() => new ClrpEstimator(Fashion.Options(), ml).Fit(data));
            StringAssert.Contains(e.Message, "CUDA device 0");
        }

        ml.FallbackToCpu = true;
        using ClrpTransformer fallback = new ClrpEstimator(Fashion.Options(), ml).Fit(data);
        Assert.AreEqual(File.Exists("/dev/nvidia0") ? "CUDA:0" : "CPU", fallback.ExecutionProvider);
    }

    private static void RunSample(string modelPath, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Clrp.Samples.MLNet.dll"));
        start.ArgumentList.Add("--images");
        start.ArgumentList.Add(Fashion.Samples);
        start.ArgumentList.Add("--model");
        start.ArgumentList.Add(modelPath);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        // Both streams are read while the process runs, so that the timeout below can fire (ReadToEnd first waited
        // for the process's end, and a hang held CI for its whole time).
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the sample did not finish within 120 s");
        }

        Assert.AreEqual(0, process.ExitCode, stdout.Result + stderr.Result);
    }
}
