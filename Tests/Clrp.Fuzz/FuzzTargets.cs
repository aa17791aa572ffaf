using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tensors;

namespace Clrp.Fuzz;

/// <summary>
/// The fuzz targets: each takes arbitrary bytes and must either succeed or throw a <see cref="Clrp.Onnx.ClrpException"/>.
/// Anything else — another exception, a crash, a hang, unbounded memory — is a finding. The same targets run the
/// seed corpus in the tests (FuzzCorpusTests), so a fixed finding stays fixed without libFuzzer.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Target names for scripts/fuzz.sh.</summary>
    public static IReadOnlyList<string> Names { get; } = ["onnx", "npy", "image"];

    /// <summary>Runs target <paramref name="name"/> on <paramref name="data"/>.</summary>
    public static void Run(string name, ReadOnlySpan<byte> data)
    {
        try
        {
            switch (name)
            {
                case "onnx":
                    Onnx(data);
                    break;
                case "npy":
                    Npy(data);
                    break;
                case "image":
                    Image(data);
                    break;
                default:
                    throw new ArgumentException($"unknown fuzz target '{name}'; expected {string.Join(", ", Names)}.");
            }
        }
        catch (Clrp.Onnx.ClrpException)
        {
            // Bad input reported the documented way.
        }
    }

    /// <summary>The ONNX reader, graph checks, canonizers and plan (what <c>clrp info</c> and Load do before ORT).</summary>
    private static void Onnx(ReadOnlySpan<byte> data)
    {
        OnnxGraph graph = OnnxModelReader.Read(data.ToArray(), "fuzz.onnx");
        using ExplanationPlan plan = ExplanationPlan.Build(graph, null, Composites.Paper(null), strict: false);
        _ = plan.Report.Count;
    }

    /// <summary>The .npy reader.</summary>
    private static void Npy(ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray(), writable: false);
        _ = NpyFile.Read(stream, "fuzz.npy").Length;
    }

    /// <summary>The image loader (header check, budget, scaled decode, resize), through a file as the CLI uses it.</summary>
    private static void Image(ReadOnlySpan<byte> data)
    {
        string path = Path.Combine(Path.GetTempPath(), $"clrp-fuzz-{Environment.ProcessId}.img");
        File.WriteAllBytes(path, data.ToArray());
        try
        {
            // A budget of 4 MP keeps each run fast; the header check is what is fuzzed.
            _ = ImageLoader.Load(path, 32, 24, channels: 3, options: new ImageLoadOptions { MaxPixels = 4_000_000 }).Tensor.Length;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
