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
    /// One step that does what <c>ApplyOnnxModel(modelPath)</c> does — it adds the model's output column (named after the
    /// ONNX output, e.g. the Softmax probabilities) — plus the explanation columns, from <b>one</b> forward pass per row:
    /// the explainer's own run supplies the logits. Use it in place of <c>ApplyOnnxModel</c>. The input column is the
    /// model's input name; z^B bounds not set in <paramref name="configure"/> come from the <c>ExtractPixels</c> step that
    /// wrote it; GPU settings default to the MLContext's.
    /// </summary>
    /// <param name="catalog"><c>ml.Transforms</c>.</param>
    /// <param name="modelPath">The ONNX classifier.</param>
    /// <param name="configure">Edits the defaults (CLRP1, paper rules, the predicted class).</param>
    public static ClrpEstimator ExplainOnnxModel(this TransformsCatalog catalog, string modelPath, Action<ClrpExplainOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var options = new ClrpExplainOptions { ModelPath = modelPath, AddModelOutputColumn = true };
        configure?.Invoke(options);
        (int? gpu, bool? fallback) = Chain.MlNetAccess.GpuDefaultsOf(catalog);
        options.GpuDeviceId ??= gpu;
        options.FallbackToCpu ??= fallback;
        return new ClrpEstimator(options);
    }

    /// <summary>
    /// Appends the explainer with nothing said twice: the model, its input column, device and preprocessing are found in the
    /// fitted chain. After <c>ApplyOnnxModel</c> the explainer replaces that step (one forward pass per row); after a
    /// trained linear head over an ONNX featurizer (<c>DnnFeaturizeImage</c> → normalisers → LbfgsMaximumEntropy,
    /// SdcaMaximumEntropy, OneVersusAll of linear binary trainers, or a binary linear trainer) the featurizer, the
    /// normalisation and the head are composed into one ONNX graph and explained for the head's classes. See
    /// <see cref="Chain.ExplainingChainEstimator{TTransformer}"/>.
    /// </summary>
    /// <param name="estimator">The pipeline.</param>
    /// <param name="configure">Edits the defaults (CLRP1, paper rules, the predicted class); leave <c>ModelPath</c> empty.</param>
    public static Chain.ExplainingChainEstimator<TTransformer> AppendExplain<TTransformer>(this IEstimator<TTransformer> estimator, Action<ClrpExplainOptions>? configure = null)
        where TTransformer : class, ITransformer
    {
        ArgumentNullException.ThrowIfNull(estimator);
        return new Chain.ExplainingChainEstimator<TTransformer>(estimator, configure);
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
