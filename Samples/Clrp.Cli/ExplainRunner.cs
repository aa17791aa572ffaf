using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli;

/// <summary>
/// Runs a validated <c>clrp explain</c>: loads the model, reads the input, explains it, writes the files asked
/// for and prints the summary. Library messages (CUDA fallback, rule warnings) go to stderr as <c>clrp: …</c>.
/// </summary>
internal static class ExplainRunner
{
    /// <summary>Returns the exit code; <see cref="Clrp.Onnx.ClrpException"/>s propagate to <see cref="CliApp"/>.</summary>
    public static int Run(ExplainRequest request, TextWriter stdout, TextWriter stderr)
    {
        var gate = new object();
        var options = new ExplainerOptions
        {
            Method = request.Method,
            Rules = request.Rules,
            Bounds = request.Bounds,
            Device = request.Device,
            DualSeed = request.DualSeed,
            OutputName = request.OutputName,
            MaxMemoryBytes = request.MaxMemoryBytes,
            CacheDirectory = request.CacheDirectory,
            Engine = request.Engine,
            Log = message =>
            {
                lock (gate)
                {
                    CliErrors.Info(stderr, message);
                }
            },
        };

        using ClrpExplainer explainer = ClrpExplainer.Load(request.ModelPath, options);
        if (request.Size is not null && InputLoader.IsNpy(request.InputPath))
        {
            CliErrors.Info(stderr, "--size resizes pictures only; the .npy input is used as stored.");
        }

        LoadedInput input = InputLoader.Load(request.InputPath, explainer.Input, request.Size, request.Mean, request.Std, request.Images);
        Explanation explanation = explainer.Explain(input.Tensor, request.Target);

        // Both files are drawn and written in full before either is put in place: all of them or none.
        var written = new List<string>();
        using (var outputs = new OutputSet())
        {
            if (request.OutPath is not null)
            {
                Tensor map = OutputMap(explanation, request.TopK);
                outputs.Stage(request.OutPath, temp => NpyFile.Write(temp, map));
                written.Add($"{request.OutPath} (float32 {map.ShapeText})");
            }

            if (request.HeatmapPath is not null)
            {
                (int width, int height) = (0, 0);
                outputs.Stage(request.HeatmapPath, temp => (width, height) = HeatmapWriter.Write(temp, explanation, input.Image));
                written.Add($"{request.HeatmapPath} (PNG {width}×{height})");
            }

            outputs.Commit();
        }

        ExplainSummary.Print(stdout, request, explainer, input, explanation, written);
        return CliErrors.Success;
    }

    /// <summary>The method's final map: [C,H,W] for one image and one class unless --top-k was given, else [N,k,C,H,W].</summary>
    public static Tensor OutputMap(Explanation explanation, bool topK)
    {
        Tensor relevance = explanation.Relevance;
        bool single = !topK && relevance.Shape[0] == 1 && relevance.Shape[1] == 1;
        return single ? relevance.Reshape(relevance.Shape[2..]) : relevance;
    }
}
