using Clrp.Fuzz;
using Clrp.Onnx.Explaining;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// The fuzz targets (Tests/Clrp.Fuzz, run under libFuzzer by scripts/fuzz.sh) on every seed and every fixed finding of
/// scripts/fuzz/corpus: each input is accepted or refused with a ClrpException, nothing else — so a finding stays fixed
/// on machines without libFuzzer.
/// </summary>
[TestClass]
public sealed class FuzzCorpusTests
{
    private static string Corpus(string target) => Path.Combine(AppContext.BaseDirectory, "fuzz-corpus", target);

    [TestMethod]
    [DataRow("onnx", 10)]
    [DataRow("npy", 10)]
    [DataRow("image", 6)]
    public void Target_EverySeedAndFinding_AcceptedOrRefusedAsClrpException(string target, int atLeast)
    {
        string[] files = Directory.GetFiles(Corpus(target));
        Assert.IsGreaterThanOrEqualTo(atLeast, files.Length, $"the {target} corpus");
        foreach (string file in files)
        {
            try
            {
                FuzzTargets.Run(target, File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                Assert.Fail($"{target} target on {Path.GetFileName(file)}: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>Found by the onnx target after 8.9 million runs: an empty initializer with a 268435450-long axis, sliced.</summary>
    [TestMethod]
    public void Inspect_EmptyConstantWithAHugeAxis_RefusedNamingTheNode()
    {
        string path = Path.Combine(Corpus("onnx"), "finding-slice-of-empty-268435450-axis.onnx");

        var e = Assert.ThrowsExactly<InvalidGraphException>(() => ClrpExplainer.Inspect(path));

        StringAssert.Contains(e.Message, "268435450");
        StringAssert.Contains(e.Message, "(Slice)");
    }

    /// <summary>The second: an empty initializer [2,9,126,32767,5,0,146815,…] whose axes before the 0 hold 371 million positions.</summary>
    [TestMethod]
    public void Inspect_EmptyConstantWithManyPositions_RefusedNamingTheNode()
    {
        string path = Path.Combine(Corpus("onnx"), "finding-slice-of-empty-371M-positions.onnx");

        var e = Assert.ThrowsExactly<InvalidGraphException>(() => ClrpExplainer.Inspect(path));

        StringAssert.Contains(e.Message, "32767");
        StringAssert.Contains(e.Message, "(Slice)");
    }

    [TestMethod]
    public void Inspect_ConstantOfShapeOfAGigaElement_RefusedBeforeAllocating()
    {
        string path = new Support.OnnxBuilder(13).Input("x", "N", 4L).Int64Initializer("shape", [40_000, 40_000], [2])
            .Node("ConstantOfShape", ["shape"], ["big"]).Node("Add", ["x", "big"], ["y"]).Output("y").Save();

        var e = Assert.ThrowsExactly<InvalidGraphException>(() => ClrpExplainer.Inspect(path));

        StringAssert.Contains(e.Message, "1600000000 elements");
    }
}
