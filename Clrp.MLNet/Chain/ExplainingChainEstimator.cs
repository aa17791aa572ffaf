using Clrp.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;

namespace Clrp.MLNet.Chain;

/// <summary>
/// <c>pipeline.AppendExplain()</c>: fits the pipeline, then finds in the fitted chain what to explain and how, so that
/// nothing is said twice.
/// <list type="bullet">
/// <item>After a trained linear head over an ONNX featurizer (<c>DnnFeaturizeImage</c> → normalisers → a linear
/// multiclass or binary trainer): the featurizer's ONNX models, the affine normalisation and the head's weights are
/// composed into one ONNX graph (<see cref="HeadComposition"/>) and explained for the head's classes.</item>
/// <item>After <c>ApplyOnnxModel</c>: its model file, input column and device are read from the fitted step, and the
/// explainer <em>replaces</em> that step, adding the same output column from its own forward pass (one forward pass per
/// row instead of two). Where it cannot (several outputs, an output that is not the logits or their Softmax) it is
/// appended after the chain instead.</item>
/// </list>
/// z^B bounds not given come from the <c>ExtractPixels</c> step that wrote the explained input.
/// </summary>
/// <typeparam name="TTransformer">The upstream estimator's transformer.</typeparam>
public sealed class ExplainingChainEstimator<TTransformer> : IEstimator<TransformerChain<ITransformer>>
    where TTransformer : class, ITransformer
{
    private readonly IEstimator<TTransformer> _upstream;
    private readonly Action<ClrpExplainOptions>? _configure;

    internal ExplainingChainEstimator(IEstimator<TTransformer> upstream, Action<ClrpExplainOptions>? configure)
    {
        _upstream = upstream;
        _configure = configure;
        ClrpExplainOptions probe = Options();
        if (!string.IsNullOrWhiteSpace(probe.ModelPath))
        {
            throw new InvalidOptionsException("AppendExplain(configure) finds the model in the fitted chain; to name the model file, use AppendExplain(ml, modelPath, configure).");
        }
    }

    /// <summary>Fits the upstream pipeline and adds the explainer (replacing <c>ApplyOnnxModel</c> where it can).</summary>
    /// <exception cref="InvalidOptionsException">The chain holds nothing this can explain, or ML.NET hides what it needs; the message names the overload that takes the model path.</exception>
    public TransformerChain<ITransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        TTransformer fitted = _upstream.Fit(input);
        List<ITransformer> parts = Flatten(fitted).ToList();
        try
        {
            return Explain(parts, input);
        }
        catch
        {
            parts.OfType<IDisposable>().ToList().ForEach(d => d.Dispose());
            throw;
        }
    }

    /// <summary>The upstream schema with the explanation columns added.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        ClrpEstimator.AppendColumns(_upstream.GetOutputSchema(inputSchema), Options(), modelOutput: null);

    private ClrpExplainOptions Options()
    {
        var options = new ClrpExplainOptions();
        _configure?.Invoke(options);
        return options;
    }

    private TransformerChain<ITransformer> Explain(List<ITransformer> parts, IDataView input)
    {
        ClrpExplainOptions options = Options();
        int head = parts.FindLastIndex(p => p is IPredictionTransformer<object>);
        if (head >= 0)
        {
            return ExplainHead(parts, head, input, options);
        }

        int onnx = parts.FindLastIndex(p => p is OnnxTransformer);
        if (onnx < 0)
        {
            throw new InvalidOptionsException("AppendExplain() found neither an ApplyOnnxModel step nor a trained head over an ONNX featurizer in the fitted chain; name the model instead: AppendExplain(ml, \"model.onnx\", configure) or ml.Transforms.ExplainOnnxModel(\"model.onnx\").");
        }

        var step = (OnnxTransformer)parts[onnx];
        MlNetAccess.OnnxStep onnxStep = MlNetAccess.ReadOnnx(step)
            ?? throw new InvalidOptionsException("AppendExplain() cannot read the model file of the ApplyOnnxModel step (this ML.NET version keeps it elsewhere); name it: AppendExplain(ml, \"model.onnx\", configure), or use ml.Transforms.ExplainOnnxModel(\"model.onnx\") in place of ApplyOnnxModel.");
        if (onnxStep.Inputs.Length != 1)
        {
            throw new InvalidOptionsException($"AppendExplain(): the ApplyOnnxModel step reads {onnxStep.Inputs.Length} columns ({string.Join(", ", onnxStep.Inputs)}); the explainer takes models with one image input.");
        }

        options.ModelPath = onnxStep.ModelPath;
        options.InputColumnName ??= onnxStep.Inputs[0];
        options.GpuDeviceId ??= onnxStep.GpuDeviceId;
        options.FallbackToCpu ??= onnxStep.FallbackToCpu;

        IDataView atStep = Apply(parts.Take(onnx), input);
        if (onnxStep.Outputs.Length == 1 && (options.OutputTensorName is null || options.OutputTensorName == onnxStep.Outputs[0]))
        {
            options.OutputTensorName = onnxStep.Outputs[0];
            options.AddModelOutputColumn = true;
            ClrpTransformer? explainer = TryFit(options, atStep);
            if (explainer is not null)
            {
                // The explainer adds ApplyOnnxModel's column from its own forward pass: the step is no longer needed.
                step.Dispose();
                return new TransformerChain<ITransformer>([.. parts.Take(onnx), explainer, .. parts.Skip(onnx + 1)]);
            }

            options.AddModelOutputColumn = false;
        }

        ClrpTransformer appended = ClrpTransformer.Fit(options, null, Apply(parts, input).Schema, atStep);
        return new TransformerChain<ITransformer>([.. parts, appended]);
    }

    /// <summary>The explainer standing in for ApplyOnnxModel, or null when the model's output cannot be made from the logits.</summary>
    private static ClrpTransformer? TryFit(ClrpExplainOptions options, IDataView atStep)
    {
        try
        {
            return ClrpTransformer.Fit(options, null, atStep.Schema, atStep);
        }
        catch (InvalidOptionsException) when (options.AddModelOutputColumn)
        {
            return null;
        }
    }

    private static TransformerChain<ITransformer> ExplainHead(List<ITransformer> parts, int head, IDataView input, ClrpExplainOptions options)
    {
        HeadComposition composition = HeadComposition.Compose(parts, head, input);
        options.ModelPath = composition.Describe;
        options.InputColumnName ??= composition.InputColumn;
        options.ClassNames ??= composition.ClassNames;
        options.GpuDeviceId ??= composition.GpuDeviceId;
        options.FallbackToCpu ??= composition.FallbackToCpu;
        if (ExplainerSetup.Bounds(options) is null && composition.Bounds is { } bounds)
        {
            options.Low = bounds.Low;
            options.High = bounds.High;
        }

        ClrpTransformer explainer = ClrpTransformer.FromModelBytes(options, composition.Model, Apply(parts, input).Schema);
        return new TransformerChain<ITransformer>([.. parts, explainer]);
    }

    /// <summary>The lazy view of <paramref name="input"/> through <paramref name="parts"/> (nothing is computed).</summary>
    private static IDataView Apply(IEnumerable<ITransformer> parts, IDataView input) =>
        parts.Aggregate(input, (view, part) => part.Transform(view));

    /// <summary>The transformers of nested chains, in order.</summary>
    internal static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [model];
}
