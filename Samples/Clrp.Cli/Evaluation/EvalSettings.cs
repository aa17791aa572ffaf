using System.Globalization;
using System.Security.Cryptography;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;

namespace Clrp.Cli.Evaluation;

/// <summary>A validated evaluation command line, shared by <c>eval pointing-game</c> and <c>eval ablation</c>.</summary>
/// <param name="ModelPath">--model.</param>
/// <param name="DataDir">--data: a folder with images.u8.npy and scenes.csv.</param>
/// <param name="Methods">--methods.</param>
/// <param name="Rules">--rules, the composite of every method but lrp-epsilon-plus and the gradients.</param>
/// <param name="Scaling">Pixels → model input, from --mean/--std or --low/--high (default: pixels on [0,1]).</param>
/// <param name="Bounds">The z^B bounds that follow from <paramref name="Scaling"/>.</param>
/// <param name="Limit">--limit: only the first N scenes.</param>
/// <param name="Batch">--batch: scenes per explanation call.</param>
/// <param name="OutPath">--out, the resumable results file, or null.</param>
/// <param name="MapsDir">--maps, the folder of the scored maps as .npy (<see cref="MapFolder"/>), or null.</param>
/// <param name="Device">--device.</param>
internal sealed record EvalSettings(
    string ModelPath,
    string DataDir,
    IReadOnlyList<EvalMethod> Methods,
    string Rules,
    PixelScaling Scaling,
    BoxBounds Bounds,
    int? Limit,
    int Batch,
    string? OutPath,
    string? MapsDir,
    Device Device)
{
    /// <summary>Loads the explainer of <paramref name="method"/> with its composite and the bounds.</summary>
    /// <param name="method">The method.</param>
    /// <param name="log">Library notes.</param>
    /// <param name="modelPath">Another model file to explain with the same settings (a randomised copy), or null for --model.</param>
    public ClrpExplainer LoadExplainer(EvalMethod method, Action<string> log, string? modelPath = null) => ClrpExplainer.Load(modelPath ?? ModelPath, new ExplainerOptions
    {
        Method = method.Method,
        Rules = method.Method.IsGradient() ? null : Composites.ByName(method.RulesUnder(Rules), Bounds),
        Bounds = Bounds,
        Device = Device,
        Log = log,
    });

    /// <summary>
    /// What makes two runs' rows interchangeable: the command, the model's and the data's SHA-256, the rules,
    /// the preprocessing, and the command's own parameters. A results file is resumed only under the same identity.
    /// </summary>
    public string Identity(string command, string parameters) => string.Join(" | ",
        $"clrp eval {command}",
        $"model {Path.GetFileName(ModelPath)} sha256:{Sha256(ModelPath)}",
        $"data {Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(DataDir)))} sha256:{Sha256(Path.Combine(DataDir, SceneSetReader.ScenesFile))}+{Sha256(Path.Combine(DataDir, SceneSetReader.ImagesFile))}",
        $"rules {Rules}",
        $"mean {Floats(Scaling.Mean)} std {Floats(Scaling.Std)}",
        parameters);

    private static string Floats(float[] values) => string.Join(';', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static string Sha256(string path)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot read '{path}': {e.Message}", e);
        }
    }
}
