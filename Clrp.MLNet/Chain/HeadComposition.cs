using Clrp.Onnx;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Graph.Composition;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Onnx;

namespace Clrp.MLNet.Chain;

/// <summary>
/// Turns a fitted transfer-learning chain — ONNX featurizer models (e.g. <c>DnnFeaturizeImage</c>'s ResNet18
/// preprocessing model and network), affine normalisers, a trained linear head — into one ONNX graph
/// (<see cref="ModelComposer"/>) that is explained for the head's classes. The feature column is traced back from the
/// head through the steps that wrote it; the head's weights come from the model parameters.
/// </summary>
internal sealed class HeadComposition
{
    private HeadComposition(byte[] model, string describe, string inputColumn, string[] classNames, (float[] Low, float[] High)? bounds, int? gpu, bool fallback)
    {
        Model = model;
        Describe = describe;
        InputColumn = inputColumn;
        ClassNames = classNames;
        Bounds = bounds;
        GpuDeviceId = gpu;
        FallbackToCpu = fallback;
    }

    /// <summary>The composed ONNX model.</summary>
    public byte[] Model { get; }

    /// <summary>What was composed, e.g. "ResNetPreprocess.onnx + ResNet18.onnx + NormalizeMinMax + MaximumEntropyModelParameters".</summary>
    public string Describe { get; }

    /// <summary>The column the first ONNX model reads (the pixels).</summary>
    public string InputColumn { get; }

    /// <summary>The head's classes (the label's key values), in the order of its scores.</summary>
    public string[] ClassNames { get; }

    /// <summary>z^B bounds at the first linear layer, from the <c>ExtractPixels</c> step through the preprocessing model; null when unknown.</summary>
    public (float[] Low, float[] High)? Bounds { get; }

    public int? GpuDeviceId { get; }

    public bool FallbackToCpu { get; }

    /// <summary>Composes the graph for the head at <paramref name="head"/> in <paramref name="parts"/>.</summary>
    /// <exception cref="InvalidOptionsException">The head is not linear, a normaliser is not affine, or the features are not made by ONNX models; the message says why.</exception>
    public static HeadComposition Compose(IReadOnlyList<ITransformer> parts, int head, IDataView input)
    {
        var views = new IDataView[parts.Count + 1];
        views[0] = input;
        for (int i = 0; i < parts.Count; i++)
        {
            views[i + 1] = parts[i].Transform(views[i]);
        }

        if (parts[head] is not ISingleFeaturePredictionTransformer<object> predictor)
        {
            throw new InvalidOptionsException($"AppendExplain(): the trained step {parts[head].GetType().Name} does not read one feature column; name the model instead: AppendExplain(ml, \"model.onnx\").");
        }

        (float[] weights, float[] bias, string kind) = LinearWeights.Read(predictor.Model);
        string column = predictor.FeatureColumnName;
        var affine = new List<AffineStep>();
        var models = new List<MlNetAccess.OnnxStep>();
        var describe = new List<string> { kind };
        for (int i = head - 1; i >= 0; i--)
        {
            if (!Writes(views[i], views[i + 1], column))
            {
                continue;
            }

            ITransformer part = parts[i];
            if (part is NormalizingTransformer normalizer)
            {
                affine.Insert(0, AffineOf(normalizer, column));
                describe.Insert(0, "normaliser");
                column = InputOf(part, column);
            }
            else if (part is ColumnCopyingTransformer)
            {
                column = InputOf(part, column);
            }
            else if (part is OnnxTransformer onnx)
            {
                MlNetAccess.OnnxStep step = MlNetAccess.ReadOnnx(onnx)
                    ?? throw new InvalidOptionsException("AppendExplain(): this ML.NET version hides the featurizer's model file, so the head cannot be composed.");
                if (step.Inputs.Length != 1 || step.Outputs.Length != 1 || step.Outputs[0] != column)
                {
                    throw new InvalidOptionsException($"AppendExplain(): the ONNX step writing '{column}' reads {string.Join(", ", step.Inputs)} and writes {string.Join(", ", step.Outputs)}; composing needs one input and one output per model.");
                }

                models.Insert(0, step);
                describe.Insert(0, Path.GetFileName(step.ModelPath));
                column = step.Inputs[0];
            }
            else if (models.Count > 0)
            {
                break;
            }
            else
            {
                throw new InvalidOptionsException($"AppendExplain(): the head's features '{column}' are written by {part.GetType().Name}, not by an ONNX featurizer (e.g. DnnFeaturizeImage) through affine normalisers; only such pipelines can be composed. Explain an ONNX model with AppendExplain(ml, \"model.onnx\").");
            }
        }

        if (models.Count == 0)
        {
            throw new InvalidOptionsException($"AppendExplain(): the head's features '{predictor.FeatureColumnName}' are not made by an ONNX featurizer (e.g. DnnFeaturizeImage); only such pipelines can be composed.");
        }

        byte[] composed = ModelComposer.Compose(models.Select(m => m.ModelPath).ToList(), new LinearHead(weights, bias, affine), inputName: column);
        string[] names = ClassNamesOf(views[head + 1].Schema, bias.Length);
        (float Low, float High)? pixels = PixelBounds.Find(views[head], column);
        return new HeadComposition(composed, string.Join(" + ", describe), column, names, pixels is { } p ? FirstLayerBounds(models, p) : null,
            models[0].GpuDeviceId, models[0].FallbackToCpu);
    }

    /// <summary>True when the step from <paramref name="before"/> to <paramref name="after"/> writes <paramref name="column"/>.</summary>
    private static bool Writes(IDataView before, IDataView after, string column) => PixelBounds.Writes(before.Schema, after.Schema, column);

    private static string InputOf(ITransformer part, string column) =>
        (MlNetAccess.ReadColumnPairs(part) ?? throw new InvalidOptionsException($"AppendExplain(): this ML.NET version hides which column {part.GetType().Name} reads, so the head cannot be composed."))
        .First(p => p.Output == column).Input;

    /// <summary>The affine map a normaliser applies to <paramref name="column"/>: y = (x − offset)·scale.</summary>
    private static AffineStep AffineOf(NormalizingTransformer normalizer, string column)
    {
        IReadOnlyList<(string Output, string Input)> pairs = MlNetAccess.ReadColumnPairs(normalizer)
            ?? throw new InvalidOptionsException("AppendExplain(): this ML.NET version hides the normaliser's columns, so the head cannot be composed.");
        int index = pairs.Select(p => p.Output).ToList().IndexOf(column);
        object parameters = normalizer.GetNormalizerModelParameters(index);
        if (parameters is NormalizingTransformer.AffineNormalizerModelParameters<System.Collections.Immutable.ImmutableArray<float>> vector)
        {
            return new AffineStep(vector.Offset.IsDefaultOrEmpty ? null : [.. vector.Offset], vector.Scale.IsDefaultOrEmpty ? null : [.. vector.Scale]);
        }

        throw new InvalidOptionsException($"AppendExplain(): the normaliser of '{column}' is {parameters.GetType().Name}, not affine; only NormalizeMinMax, NormalizeMeanVariance (without log) and other (x − offset)·scale normalisers can be written into the graph.");
    }

    /// <summary>The head's class names: the key values of its PredictedLabel, else 0…K−1.</summary>
    private static string[] ClassNamesOf(DataViewSchema schema, int classes)
    {
        if (schema.GetColumnOrNull("PredictedLabel") is { Type: KeyDataViewType } label && KeyClassMap.KeyValueTexts(label) is { } values && values.Length == classes)
        {
            return values;
        }

        return classes == 2 && schema.GetColumnOrNull("PredictedLabel") is { Type: BooleanDataViewType }
            ? ["False", "True"]
            : Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>
    /// z^B bounds where the first linear layer reads: the pixel range pushed through the leading models that hold no
    /// linear layer (ResNet18's preprocessing model: a channel reorder and a mean-image Sub). Those are element-wise
    /// monotone, so the per-channel minimum and maximum of their outputs for an all-low and an all-high image bound every
    /// input. Null when the first model already holds a linear layer that does not read its input directly.
    /// </summary>
    private static (float[] Low, float[] High)? FirstLayerBounds(List<MlNetAccess.OnnxStep> models, (float Low, float High) pixels)
    {
        float[] low = [pixels.Low], high = [pixels.High];
        foreach (MlNetAccess.OnnxStep step in models)
        {
            OnnxGraph graph = OnnxModelReader.Read(step.ModelPath);
            Node? firstLinear = graph.Nodes.FirstOrDefault(n => n.OpType is "Conv" or "ConvTranspose" or "Gemm" or "MatMul" or "Einsum");
            if (firstLinear is not null)
            {
                return firstLinear.Input(0) == graph.Inputs.First(i => !graph.IsConstant(i.Name)).Name ? (low, high) : null;
            }

            if (graph.Nodes.Any(n => n.OpType is not ("Split" or "Concat" or "Sub" or "Add" or "Identity" or "Transpose" or "Reshape" or "Slice")))
            {
                return null;
            }

            (low, high) = Corners(step.ModelPath, low, high);
        }

        return null;
    }

    /// <summary>Runs <paramref name="path"/> on an all-low and an all-high input; per output channel the least and greatest value.</summary>
    private static (float[] Low, float[] High) Corners(string path, float[] low, float[] high)
    {
        using var session = new InferenceSession(path);
        (string name, NodeMetadata meta) = session.InputMetadata.First();
        int[] dims = meta.Dimensions.Select(d => d > 0 ? d : 1).ToArray();
        int channels = dims.Length > 1 ? dims[1] : 1;
        float[] Run(float[] perChannel, out int outChannels)
        {
            int plane = dims.Skip(2).Aggregate(1, (a, d) => a * d);
            var data = new float[dims.Aggregate(1, (a, d) => a * d)];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = perChannel[Math.Min((i / plane) % channels, perChannel.Length - 1)];
            }

            using var results = session.Run([NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(data, dims))]);
            Tensor<float> output = results.First().AsTensor<float>();
            outChannels = output.Dimensions.Length > 1 ? output.Dimensions[1] : 1;
            return output.ToArray();
        }

        float[] a = Run(low, out int c), b = Run(high, out _);
        int per = a.Length / c;
        var lo = new float[c];
        var hi = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            lo[ch] = float.PositiveInfinity;
            hi[ch] = float.NegativeInfinity;
            for (int i = ch * per; i < (ch + 1) * per; i++)
            {
                lo[ch] = Math.Min(lo[ch], Math.Min(a[i], b[i]));
                hi[ch] = Math.Max(hi[ch], Math.Max(a[i], b[i]));
            }
        }

        return (lo, hi);
    }
}
