using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>Catalog extensions: <c>ml.Transforms.ExplainClrp(options)</c> and <c>pipeline.AppendExplain(ml, …)</c>.</summary>
public static class ClrpCatalog
{
    /// <summary>
    /// An estimator that adds relevance maps of the ONNX classifier in <see cref="ClrpExplainOptions.ModelPath"/>.
    /// GPU settings not given in <paramref name="options"/> come from <paramref name="context"/>: pass the
    /// MLContext here, because a <see cref="TransformsCatalog"/> keeps its context in an internal member (ML.NET 5.0.1);
    /// without one the CPU is used, as MLContext's own defaults do.
    /// </summary>
    public static ClrpEstimator ExplainClrp(this TransformsCatalog catalog, ClrpExplainOptions options, MLContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new ClrpEstimator(options, context);
    }

    /// <summary>
    /// Appends the explainer to a chain that scores <paramref name="options"/>' model, typically right after
    /// <c>ApplyOnnxModel(modelPath)</c>; GPU settings default to <paramref name="ml"/>'s.
    /// The model file must be named again: ML.NET 5.0.1 keeps an <c>OnnxScoringEstimator</c>'s model, input and
    /// output names in internal members (<c>OnnxTransformer.Model/Inputs/Outputs</c>), so they cannot be read from
    /// the chain. The input column defaults to the model's input name, which is the column <c>ApplyOnnxModel(modelPath)</c> reads.
    /// </summary>
    public static EstimatorChain<ClrpTransformer> AppendExplain<TTransformer>(this IEstimator<TTransformer> estimator, MLContext ml, ClrpExplainOptions options)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(ml);
        return estimator.Append(new ClrpEstimator(options, ml));
    }

    /// <summary>
    /// <see cref="AppendExplain{TTransformer}(IEstimator{TTransformer}, MLContext, ClrpExplainOptions)"/> with
    /// <paramref name="modelPath"/> and the defaults (CLRP1, paper rules, predicted class), edited by <paramref name="configure"/>.
    /// </summary>
    public static EstimatorChain<ClrpTransformer> AppendExplain<TTransformer>(this IEstimator<TTransformer> estimator, MLContext ml, string modelPath, Action<ClrpExplainOptions>? configure = null)
        where TTransformer : class, ITransformer
    {
        var options = new ClrpExplainOptions { ModelPath = modelPath };
        configure?.Invoke(options);
        return estimator.AppendExplain(ml, options);
    }
}
