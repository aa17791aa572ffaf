using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>The committed evaluation set and pair model, copied next to the test assembly.</summary>
internal static class EvalPaths
{
    public static string Data => TestPaths.Model(Path.Combine("data", "fashion-pairs-test"));

    public static string PairVgg => TestPaths.Model("fashion-pair-vgg.onnx");

    public static string Emotion => TestPaths.Model("emotion.onnx");

    public static string Face(string name) => TestPaths.Model(Path.Combine("samples", "faces", name));

    /// <summary>The preprocessing of the fashion-pair models (models/data/fashion-pairs-test/README.md).</summary>
    public static readonly string[] PairScaling = ["--mean", "0.1417", "--std", "0.2478"];
}
