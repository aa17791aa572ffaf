using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Compiled graphs kept between processes (<see cref="ExplainerOptions.CacheDirectory"/>, <c>clrp explain --cache-dir</c>):
/// a second explainer with the same model and options opens the cached graph (and ONNX Runtime's optimised form) without
/// compiling, and explains identically; other options, or another model file, get their own entries.
/// </summary>
[TestClass]
public sealed class GraphCacheTests
{
    [TestMethod]
    public void Second_load_opens_the_cached_graph_and_explains_identically()
    {
        string cache = TestPaths.TempDir();
        Tensor x = ParityHarness.RandomInput(5, 2, 1, 28, 28);
        var options = new ExplainerOptions { Method = ExplainMethod.Clrp1, CacheDirectory = cache };
        Explanation first, second;
        using (var cold = ClrpExplainer.Load(TestPaths.FashionVgg, options))
        {
            Assert.IsTrue(cold.LoadTimes.Any(p => p.Phase == "compile"), Phases(cold));
            first = cold.Explain(x, Target.TopK(2));
        }

        string[] entries = Directory.GetDirectories(cache).Where(d => Path.GetFileName(d) != "hashes").ToArray();
        Assert.HasCount(2, entries.Length == 0 ? [] : Directory.GetFiles(entries[0], "*.onnx"), "explainer.onnx and ort-cpu.onnx"); // k = 1 at load
        using (var warm = ClrpExplainer.Load(TestPaths.FashionVgg, options))
        {
            Assert.IsFalse(warm.LoadTimes.Any(p => p.Phase == "compile"), Phases(warm));
            Assert.IsTrue(warm.LoadTimes.Any(p => p.Phase == "session (cached)"), Phases(warm));
            second = warm.Explain(x, Target.TopK(2));
            Assert.AreEqual("compiled", second.Engine);
        }

        CollectionAssert.AreEqual(first.Relevance.Data, second.Relevance.Data, "cached graph, same maps");
        CollectionAssert.AreEqual(first.TargetClasses.ToArray(), second.TargetClasses.ToArray());
    }

    [TestMethod]
    public void Other_options_and_an_edited_model_get_their_own_entries()
    {
        string cache = TestPaths.TempDir();
        string model = Path.Combine(TestPaths.TempDir(), "m.onnx");
        File.Copy(TestPaths.FashionVgg, model);
        int Entries() => Directory.GetDirectories(cache).Count(d => Path.GetFileName(d) != "hashes");
        using (ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp, CacheDirectory = cache }))
        {
        }

        Assert.AreEqual(1, Entries());
        using (ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp, CacheDirectory = cache, Rules = Composites.Composites.Epsilon(0.1f) }))
        {
        }

        Assert.AreEqual(2, Entries(), "another ε is another graph");
        using (ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp, CacheDirectory = cache, Rules = Composites.Composites.Epsilon(0.2f) }))
        {
        }

        Assert.AreEqual(3, Entries());
        byte[] bytes = File.ReadAllBytes(model);
        bytes[^1] ^= 0; // same bytes, rewritten: a new modification time, the same content
        File.WriteAllBytes(model, bytes);
        File.SetLastWriteTimeUtc(model, DateTime.UtcNow.AddMinutes(1));
        using (var again = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp, CacheDirectory = cache }))
        {
            Assert.IsTrue(again.LoadTimes.Any(p => p.Phase == "session (cached)"), "the content is unchanged: the entry is found by its hash");
        }

        Assert.AreEqual(3, Entries());
    }

    [TestMethod]
    public void Cli_explain_uses_the_cache_folder_and_none_turns_it_off()
    {
        string cache = TestPaths.TempDir();
        string outA = Path.Combine(cache, "..", Guid.NewGuid().ToString("N") + ".npy"), outB = outA + ".2.npy";
        string input = TestPaths.Model(Path.Combine("samples", "fashion-test-0000-ankle-boot.png"));
        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--mean", "0.2860", "--std", "0.3530", "--out", outA, "--cache-dir", cache).AssertSuccess();
        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--mean", "0.2860", "--std", "0.3530", "--out", outB, "--cache-dir", cache).AssertSuccess();
        CollectionAssert.AreEqual(NpyFile.Read(outA).Data, NpyFile.Read(outB).Data);
        Assert.AreEqual(1, Directory.GetDirectories(cache).Count(d => Path.GetFileName(d) != "hashes"));

        string empty = TestPaths.TempDir();
        string? previous = Environment.GetEnvironmentVariable("CLRP_CACHE_DIR");
        Environment.SetEnvironmentVariable("CLRP_CACHE_DIR", empty);
        try
        {
            CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--out", outB, "--cache-dir", "none").AssertSuccess();
            Assert.IsEmpty(Directory.GetFileSystemEntries(empty), "--cache-dir none writes nothing");
            CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--out", outB).AssertSuccess();
            Assert.IsNotEmpty(Directory.GetFileSystemEntries(empty), "the default folder ($CLRP_CACHE_DIR here) is used");
        }
        finally
        {
            Environment.SetEnvironmentVariable("CLRP_CACHE_DIR", previous);
        }

        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--cache-dir", "").AssertBadInput("--cache-dir");
    }

    private static string Phases(ClrpExplainer e) => string.Join(", ", e.LoadTimes.Select(p => p.Phase));
}
