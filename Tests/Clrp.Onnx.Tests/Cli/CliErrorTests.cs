using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary>
/// Bad arguments and bad inputs (DESIGN.md §3–4): each run exits with code 2 and writes exactly one line
/// <c>clrp: error: …</c> to stderr that names the problem, with no stack trace.
/// </summary>
[TestClass]
public sealed class CliErrorTests
{
    private static string ReferenceInput => TestPaths.Fixture("reference", "input.npy");

    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Explain_MissingModelFile_ExitsTwoNamingTheFile()
    {
        string model = Path.Combine(_dir, "missing.onnx");

        Explain(model, ReferenceInput).AssertBadInput("missing.onnx", "not found");
    }

    [TestMethod]
    public void Explain_CorruptModel_ExitsTwoNamingTheFile()
    {
        var bytes = new byte[4096];
        new Random(20180101).NextBytes(bytes);
        string model = Path.Combine(_dir, "random.onnx");
        File.WriteAllBytes(model, bytes);

        Explain(model, ReferenceInput).AssertBadInput("random.onnx");
    }

    [TestMethod]
    public void Explain_TruncatedModel_ExitsTwoNamingTheFile()
    {
        byte[] full = File.ReadAllBytes(TestPaths.FashionVgg);
        string model = Path.Combine(_dir, "half.onnx");
        File.WriteAllBytes(model, full[..(full.Length / 2)]);

        Explain(model, ReferenceInput).AssertBadInput("half.onnx");
    }

    [TestMethod]
    public void Explain_WrongInputShape_ExitsTwoNamingBothShapes()
    {
        string input = Path.Combine(_dir, "rgb.npy");
        NpyFile.Write(input, new Tensor(1, 3, 28, 28));

        Explain(TestPaths.FashionVgg, input).AssertBadInput("[1,3,28,28]", "[?,1,28,28]");
    }

    [TestMethod]
    public void Explain_NaNInInput_ExitsTwoSayingNaN()
    {
        Tensor x = NpyFile.Read(ReferenceInput);
        x.Data[100] = float.NaN;
        string input = Path.Combine(_dir, "nan.npy");
        NpyFile.Write(input, x);

        Explain(TestPaths.FashionVgg, input).AssertBadInput("NaN", "index 100");
    }

    [TestMethod]
    public void Explain_TargetEqualToClassCount_ExitsTwoNamingTheRange()
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--target", "10").AssertBadInput("10", "[0, 10)");
    }

    [TestMethod]
    public void Explain_UnknownMethod_ExitsTwoListingTheMethods()
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--method", "deeplift").AssertBadInput("deeplift", "clrp1");
    }

    [TestMethod]
    public void Explain_UnknownRules_ExitsTwoListingTheComposites()
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--rules", "zplus").AssertBadInput("zplus", "epsilon-gamma-box");
    }

    [TestMethod]
    [DataRow("0.2860,abc")]
    [DataRow("0.2860,,0.1")]
    [DataRow("")]
    public void Explain_MalformedMeanList_ExitsTwoNamingTheOption(string mean)
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--mean", mean, "--std", "0.3530").AssertBadInput("--mean");
    }

    [TestMethod]
    public void Explain_TargetWithTopK_ExitsTwoNamingBoth()
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--target", "1", "--top-k", "3").AssertBadInput("--target", "--top-k");
    }

    [TestMethod]
    public void Explain_LowWithoutHigh_ExitsTwoNamingHigh()
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--low", "-0.8102").AssertBadInput("--high");
    }

    [TestMethod]
    public void Explain_BoundsAndMeanStdTogether_ExitsTwo()
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--low", "0", "--high", "1", "--mean", "0.5", "--std", "0.5").AssertBadInput("--low/--high", "--mean/--std");
    }

    [TestMethod]
    public void Explain_MissingModelAndInputOptions_ExitsTwoInOneLine()
    {
        CliRun.Of("explain").AssertBadInput("--model", "--input");
    }

    [TestMethod]
    public void Explain_MissingInputFile_ExitsTwoNamingTheFile()
    {
        Explain(TestPaths.FashionVgg, Path.Combine(_dir, "nothere.png")).AssertBadInput("nothere.png");
    }

    [TestMethod]
    public void Explain_UnknownOption_ExitsTwo()
    {
        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", ReferenceInput, "--colour", "red").AssertBadInput("--colour");
    }

    [TestMethod]
    public void Explain_BadDevice_ExitsTwo()
    {
        Explain(TestPaths.FashionVgg, ReferenceInput, "--device", "tpu").AssertBadInput("tpu");
    }

    [TestMethod]
    public void Explain_UnsupportedOperator_ExitsTwoNamingNodeAndOp()
    {
        string model = SinModel(_dir);
        string input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new Tensor([0.1f, 0.2f, 0.3f, 0.4f], [1, 4]));

        Explain(model, input).AssertBadInput("Sin", "sin0", "not supported");
    }

    [TestMethod]
    public void Run_NoCommand_ExitsTwo()
    {
        Assert.AreEqual(2, CliRun.Of().ExitCode);
    }

    /// <summary>x [1,4] → Sin → y: a graph whose only operator has no propagator.</summary>
    internal static string SinModel(string dir) =>
        new OnnxBuilder(opset: 13).Input("x", 1L, 4L).Node("Sin", ["x"], ["y"]).Output("y").Save(Path.Combine(dir, "sin.onnx"));

    private static CliRun Explain(string model, string input, params string[] more) =>
        CliRun.Of(["explain", "--model", model, "--input", input, .. more]);
}
