using Clrp.Onnx.Explaining;

namespace Clrp.MLNet;

/// <summary>
/// Options of <see cref="ClrpEstimator"/> (<c>ml.Transforms.ExplainClrp(options)</c>, <c>AppendExplain(ml, options)</c>).
/// Every property has a documented default; only <see cref="ModelPath"/> is required. Everything except
/// <see cref="CancellationToken"/> is persisted by <c>ClrpModel.Save</c>.
/// </summary>
public sealed class ClrpExplainOptions
{
    /// <summary>
    /// The ONNX classifier to explain, the same file given to <c>ApplyOnnxModel</c>. Required: ML.NET 5.0.1 keeps
    /// an <c>OnnxScoringEstimator</c>'s model, input and output names in internal members, so they cannot be read
    /// from the chain.
    /// </summary>
    public string ModelPath { get; set; } = "";

    /// <summary>
    /// The column holding the preprocessed input as a float vector of C·H·W values (row-major [C,H,W]).
    /// Default: null = the model's input name, which is also the column <c>ApplyOnnxModel(modelPath)</c> reads.
    /// </summary>
    public string? InputColumnName { get; set; }

    /// <summary>The attribution method. Default: <see cref="ExplainMethod.Clrp1"/>.</summary>
    public ExplainMethod Method { get; set; } = ExplainMethod.Clrp1;

    /// <summary>
    /// The composite by name: paper, epsilon, epsilon-plus, epsilon-gamma-box, epsilon-plus-flat, alpha2-beta1.
    /// Default: "paper" (z^B on the first layer, z⁺ elsewhere).
    /// </summary>
    public string Rules { get; set; } = "paper";

    /// <summary>Per-channel mean of the preprocessing <c>(pixel/255 − mean)/std</c>; gives the z^B bounds. Default: null.</summary>
    public float[]? Mean { get; set; }

    /// <summary>Per-channel std of the preprocessing; set together with <see cref="Mean"/>. Default: null.</summary>
    public float[]? Std { get; set; }

    /// <summary>z^B lowest input value, one or one per channel (instead of <see cref="Mean"/>/<see cref="Std"/>). Default: null.</summary>
    public float[]? Low { get; set; }

    /// <summary>z^B highest input value, one or one per channel. Default: null.</summary>
    public float[]? High { get; set; }

    /// <summary>ε of the ε rule. Default: 1e-6.</summary>
    public float Epsilon { get; set; } = 1e-6f;

    /// <summary>γ of the γ rule. Default: 0.25.</summary>
    public float Gamma { get; set; } = 0.25f;

    /// <summary>CLRP1's dual seed. Default: <see cref="DualSeed.Uniform"/>.</summary>
    public DualSeed DualSeed { get; set; } = DualSeed.Uniform;

    /// <summary>Which class(es) each row is explained for. Default: <see cref="ExplainTarget.Predicted"/>.</summary>
    public ExplainTarget Target { get; set; } = ExplainTarget.Predicted;

    /// <summary>
    /// The model's class names, in the order of its outputs. A key-typed target column whose key values are text
    /// (e.g. <c>MapValueToKey</c> over "cat", "dog") is explained as the class of the same name. Set for you when
    /// <c>AppendExplain()</c> composes an ML.NET head (the label's key values). Default: null (key values must then be
    /// class indices).
    /// </summary>
    public string[]? ClassNames { get; set; }

    /// <summary>The model tensor to explain when it is not the logits. Default: null = the logits.</summary>
    public string? OutputTensorName { get; set; }

    /// <summary>
    /// Also add the column <c>ApplyOnnxModel</c> would add for the explained output (named after the ONNX output, e.g.
    /// the Softmax probabilities), computed from the explainer's own forward pass, so that the explainer replaces
    /// <c>ApplyOnnxModel</c> and the model runs once per row. Set by <c>ml.Transforms.ExplainOnnxModel</c> and by
    /// <c>AppendExplain()</c> when it replaces an <c>ApplyOnnxModel</c> step. Default: false.
    /// </summary>
    public bool AddModelOutputColumn { get; set; }

    /// <summary>Output column: the method's map, float vector [C,H,W] ([k,C,H,W] for top-k). Default: "Relevance".</summary>
    public string RelevanceColumnName { get; set; } = "Relevance";

    /// <summary>Output column: the channel sum of the map, float vector [H,W] ([k,H,W] for top-k). Default: "Heatmap".</summary>
    public string HeatmapColumnName { get; set; } = "Heatmap";

    /// <summary>Output column: the explained class, int (0-based; an int vector [k] for top-k). Default: "ExplainedClass".</summary>
    public string ExplainedClassColumnName { get; set; } = "ExplainedClass";

    /// <summary>Output column: the explained tensor's values (the logits), float vector [K]; added only when the input has no column of that name. Default: "Logits".</summary>
    public string LogitsColumnName { get; set; } = "Logits";

    /// <summary>CUDA device for the forward pass. Default: null = <c>MLContext.GpuDeviceId</c> (null there = CPU).</summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>Use the CPU when CUDA cannot be loaded. Default: null = <c>MLContext.FallbackToCpu</c>.</summary>
    public bool? FallbackToCpu { get; set; }

    /// <summary>
    /// Which engine explains: <see cref="ExplainerEngine.Auto"/> (the default) compiles the explanation into one ONNX Runtime
    /// graph and falls back to the managed walk where a model cannot be compiled; <see cref="ExplainerEngine.Compiled"/>
    /// throws instead of falling back; <see cref="ExplainerEngine.Managed"/> runs the managed walk (the reference).
    /// </summary>
    public ExplainerEngine Engine { get; set; } = ExplainerEngine.Auto;

    /// <summary>
    /// Rows explained together when a cursor reads them (one forward pass and one backward walk per mini-batch).
    /// Default: 32. Results do not depend on it: when the z^B bounds come from the data, each row uses its own range.
    /// </summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>
    /// Stops a running enumeration: cursors check it before each row and each mini-batch and throw
    /// <see cref="OperationCanceledException"/>. Not persisted. Default: none.
    /// </summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>A copy, so that a fitted transformer is not changed by later edits of the caller's options.</summary>
    internal ClrpExplainOptions Clone()
    {
        var copy = (ClrpExplainOptions)MemberwiseClone();
        copy.Mean = (float[]?)Mean?.Clone();
        copy.Std = (float[]?)Std?.Clone();
        copy.Low = (float[]?)Low?.Clone();
        copy.High = (float[]?)High?.Clone();
        copy.ClassNames = (string[]?)ClassNames?.Clone();
        return copy;
    }
}
