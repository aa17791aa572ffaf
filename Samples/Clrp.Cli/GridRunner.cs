using System.Globalization;
using Clrp.Cli.Evaluation;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tensors;
using SkiaSharp;

namespace Clrp.Cli;

/// <summary>
/// Runs <c>clrp grid</c>: loads every input, explains the whole batch once per method with its top-k classes
/// (one walk per method), and lays the panels out with <see cref="HeatmapRenderer.RenderGrid"/>: the input, then
/// one map per method, drawn as <c>--heatmap</c> draws them (<see cref="HeatmapWriter.RenderPanel"/>).
/// </summary>
internal static class GridRunner
{
    public static int Run(GridRequest request, TextWriter stdout, TextWriter stderr)
    {
        ModelReport model = ClrpExplainer.Inspect(request.ModelPath);
        List<(string Name, LoadedInput Input)> images = [.. request.Inputs.SelectMany(file => Split(file, InputLoader.Load(file, model.Input, request.Size, request.Mean, request.Std, request.Images)))];
        Tensor batch = Stack(images.Select(i => i.Input.Tensor).ToList());
        var explanations = new List<Explanation>();
        var seen = new HashSet<string>();
        foreach (EvalMethod method in request.Methods)
        {
            using ClrpExplainer explainer = ClrpExplainer.Load(request.ModelPath, new ExplainerOptions
            {
                Method = method.Method,
                Rules = method.Method.IsGradient() ? null : Composites.ByName(method.RulesUnder(request.Rules), request.Bounds),
                Bounds = request.Bounds,
                Device = request.Device,
                Log = m => { if (seen.Add(m)) { CliErrors.Info(stderr, m); } },
            });
            explanations.Add(explainer.Explain(batch, Target.TopK(request.TopK)));
        }

        Explanation first = explanations[0];
        int classes = first.Logits.Shape[1];
        if (request.Labels is { } names && names.Count != classes)
        {
            throw new InvalidOptionsException($"--labels gives {names.Count} names, but model '{request.ModelPath}' has {classes} classes.");
        }

        (SKBitmap?[][] panels, List<string> labels) = Panels(request, images, explanations);
        try
        {
            string[] titles = ["input", .. request.Methods.Select(m => DisplayName(m.Name))];
            using SKBitmap grid = HeatmapRenderer.RenderGrid(panels, titles, labels);
            HeatmapRenderer.SavePng(OutputPaths.Prepare(request.OutPath), grid);
            foreach (string label in labels)
            {
                stdout.WriteLine($"row:   {label}");
            }

            stdout.WriteLine($"wrote: {request.OutPath} (PNG {grid.Width}×{grid.Height}, {labels.Count} rows × {titles.Length} columns, rules {request.Rules})");
        }
        finally
        {
            foreach (SKBitmap? panel in panels.SelectMany(row => row))
            {
                panel?.Dispose();
            }
        }

        return CliErrors.Success;
    }

    /// <summary>One row per (image, rank): the input picture and every method's map of that class.</summary>
    private static (SKBitmap?[][] Panels, List<string> Labels) Panels(GridRequest request, List<(string Name, LoadedInput Input)> images, List<Explanation> explanations)
    {
        Explanation first = explanations[0];
        if (first.Relevance.Rank != 5)
        {
            throw new InvalidOptionsException($"grid draws maps of image inputs [N,C,H,W]; the relevance has shape {first.Relevance.ShapeText}. Use explain --out to save it as .npy.");
        }

        int height = first.Heatmap.Shape[2], width = first.Heatmap.Shape[3];
        var rows = new List<SKBitmap?[]>();
        var labels = new List<string>();
        for (int img = 0; img < images.Count; img++)
        {
            LoadedImage? picture = images[img].Input.Image;
            byte[] rgba = picture is not null && picture.Width == width && picture.Height == height ? picture.Rgba : GreyRgba(images[img].Input.Tensor, width, height);
            for (int rank = 0; rank < request.TopK; rank++)
            {
                int cls = first.TargetClassOf(img, rank);
                string name = request.Labels?[cls] ?? $"class {cls}";
                labels.Add(string.Create(CultureInfo.InvariantCulture, $"{images[img].Name}: #{rank + 1} {name} (logit {first.Logits.Row(img)[cls]:0.00})"));
                var row = new SKBitmap?[explanations.Count + 1];
                row[0] = HeatmapWriter.RenderInput(rgba, width, height);
                for (int m = 0; m < explanations.Count; m++)
                {
                    float[] map = explanations[m].HeatmapOf(img, rank);
                    row[m + 1] = HeatmapWriter.RenderPanel(map, width, height, explanations[m].Method, picture);
                }

                rows.Add(row);
            }
        }

        return ([.. rows], labels);
    }

    /// <summary>The images of one input file: a picture is one; a .npy batch [N,C,H,W] gives N, named file[i].</summary>
    private static IEnumerable<(string Name, LoadedInput Input)> Split(string file, LoadedInput input)
    {
        string name = Path.GetFileNameWithoutExtension(file);
        Tensor t = input.Tensor;
        if (input.Image is not null || t.Rank != 4 || t.Shape[0] == 1)
        {
            yield return (name, input);
            yield break;
        }

        for (int n = 0; n < t.Shape[0]; n++)
        {
            yield return ($"{name}[{n}]", input with { Tensor = new Tensor(t.Row(n).ToArray(), [1, .. t.Shape[1..]]) });
        }
    }

    /// <summary>Stacks per-image inputs ([1,C,H,W] or [C,H,W]) into one batch; they must share C, H and W.</summary>
    private static Tensor Stack(List<Tensor> tensors)
    {
        int[] shape = tensors[0].Rank == 4 ? tensors[0].Shape[1..] : tensors[0].Shape;
        var batch = new Tensor([tensors.Count, .. shape]);
        int length = batch.RowLength;
        for (int i = 0; i < tensors.Count; i++)
        {
            if (tensors[i].Length != length)
            {
                throw new InvalidInputException($"--inputs must all have one shape; input {i + 1} has {tensors[i].ShapeText}, the first {Tensor.FormatShape(shape)}.");
            }

            tensors[i].Data.CopyTo(batch.Data, i * length);
        }

        return batch;
    }

    /// <summary>A .npy input has no picture: show its channel mean, stretched to black..white.</summary>
    private static byte[] GreyRgba(Tensor input, int width, int height)
    {
        int plane = width * height, channels = input.Length / plane;
        var grey = new float[plane];
        for (int c = 0; c < channels; c++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(grey, input.Data.AsSpan(c * plane, plane), grey);
        }

        float min = System.Numerics.Tensors.TensorPrimitives.Min(grey), max = System.Numerics.Tensors.TensorPrimitives.Max(grey);
        var rgba = new byte[plane * 4];
        for (int i = 0; i < plane; i++)
        {
            byte v = (byte)(max > min ? MathF.Round(255 * (grey[i] - min) / (max - min)) : 0);
            (rgba[4 * i], rgba[(4 * i) + 1], rgba[(4 * i) + 2], rgba[(4 * i) + 3]) = (v, v, v, 255);
        }

        return rgba;
    }

    /// <summary>Column titles as the paper writes the methods.</summary>
    private static string DisplayName(string method) => method switch
    {
        "lrp" => "LRP",
        "clrp1" => "CLRP1",
        "clrp2" => "CLRP2",
        "sglrp" => "SGLRP",
        "lrp-epsilon-plus" => "LRP (ε+)",
        "gradient-input" => "gradient⊙input",
        _ => method,
    };
}
