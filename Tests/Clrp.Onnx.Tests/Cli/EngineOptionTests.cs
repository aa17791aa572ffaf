using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary><c>clrp explain --engine</c>: the summary names the engine, and both engines write the same map.</summary>
[TestClass]
public sealed class EngineOptionTests
{
    [TestMethod]
    public void Explain_with_each_engine_names_it_and_writes_the_same_map()
    {
        string dir = TestPaths.TempDir();
        string input = TestPaths.Model(Path.Combine("samples", "fashion-test-0000-ankle-boot.png"));
        var maps = new Dictionary<string, Tensor>();
        foreach (string engine in new[] { "compiled", "managed" })
        {
            string output = Path.Combine(dir, engine + ".npy");
            CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--mean", "0.2860", "--std", "0.3530", "--method", "clrp2", "--top-k", "2", "--engine", engine, "--out", output);
            run.AssertSuccess();
            StringAssert.Contains(run.Stdout, $"provider:  CPU ({engine} engine)");
            maps[engine] = NpyFile.Read(output);
        }

        double error = Compare.RelativeL2(maps["compiled"].Data, maps["managed"].Data);
        Assert.IsTrue(error <= 1e-5, $"compiled vs managed CLRP2 map: relative L2 {error:E2}");
    }

    [TestMethod]
    public void Explain_refuses_an_unknown_engine()
    {
        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", TestPaths.Model(Path.Combine("samples", "fashion-test-0000-ankle-boot.png")), "--engine", "gpu").AssertBadInput("--engine", "gpu");
    }
}
