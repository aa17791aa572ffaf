using Clrp.Onnx.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// The shapes and names a fitted explainer works with: the per-row input dimensions [C,H,W], the number of
/// classes K, the classes explained per row k, and the input, target and output column names. It builds the
/// output schema: the input's columns, then Relevance, Heatmap, ExplainedClass and (when absent) Logits.
/// </summary>
internal sealed class ExplanationLayout
{
    public ExplanationLayout(ClrpExplainOptions options, string inputColumn, int[] inputDims, int classes, ModelOutputColumn? modelOutput = null)
    {
        ModelOutput = modelOutput;
        Options = options;
        InputColumn = inputColumn;
        InputDims = inputDims;
        InputLength = Tensor.CheckedCount(inputDims);
        HeatmapDims = inputDims.Length == 3 ? inputDims[1..] : inputDims;
        HeatmapLength = Tensor.CheckedCount(HeatmapDims);
        Classes = classes;
        PerRow = options.Target.ClassesPerRow;
    }

    public ClrpExplainOptions Options { get; }

    /// <summary>The column holding the preprocessed input.</summary>
    public string InputColumn { get; }

    /// <summary>The column holding each row's class, or null.</summary>
    public string? TargetColumn => Options.Target.ColumnName;

    /// <summary>Per-row input dimensions, [C,H,W] for images.</summary>
    public int[] InputDims { get; }

    /// <summary>C·H·W.</summary>
    public int InputLength { get; }

    /// <summary>[H,W] for images; the input dimensions otherwise.</summary>
    public int[] HeatmapDims { get; }

    public int HeatmapLength { get; }

    /// <summary>K, the length of the explained tensor (logits).</summary>
    public int Classes { get; }

    /// <summary>The model's class names in order (<see cref="ClrpExplainOptions.ClassNames"/>), or null when unknown.</summary>
    public IReadOnlyList<string>? ClassNames => Options.ClassNames;

    /// <summary>The column ApplyOnnxModel would add, when the explainer stands in for it; else null.</summary>
    public ModelOutputColumn? ModelOutput { get; }

    /// <summary>k, the classes explained per row.</summary>
    public int PerRow { get; }

    /// <summary>The input as ML.NET shows it in messages, e.g. Vector&lt;Single, 1, 28, 28&gt;.</summary>
    public string ExpectedInputText => new VectorDataViewType(NumberDataViewType.Single, InputDims).ToString();

    /// <summary>True when the output gains the Logits column (the input has no column of that name).</summary>
    public bool AddsLogits(DataViewSchema input) => input.GetColumnOrNull(Options.LogitsColumnName) is null;

    /// <summary>The columns the explainer adds, in order.</summary>
    public IReadOnlyList<(string Name, DataViewType Type)> AddedColumns(bool addLogits)
    {
        int[] lead = PerRow > 1 ? [PerRow] : [];
        var added = new List<(string, DataViewType)>();
        if (ModelOutput is { } output)
        {
            added.Add((output.Name, new VectorDataViewType(NumberDataViewType.Single, output.Dims)));
        }

        added.AddRange(
        [
            (Options.RelevanceColumnName, new VectorDataViewType(NumberDataViewType.Single, (int[])[.. lead, .. InputDims])),
            (Options.HeatmapColumnName, new VectorDataViewType(NumberDataViewType.Single, (int[])[.. lead, .. HeatmapDims])),
            (Options.ExplainedClassColumnName, PerRow > 1 ? new VectorDataViewType(NumberDataViewType.Int32, PerRow) : NumberDataViewType.Int32),
        ]);
        if (addLogits)
        {
            added.Add((Options.LogitsColumnName, new VectorDataViewType(NumberDataViewType.Single, Classes)));
        }

        return added;
    }

    /// <summary>The input columns, then the added ones (an added column hides an input column of the same name).</summary>
    public DataViewSchema OutputSchema(DataViewSchema input)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        foreach ((string name, DataViewType type) in AddedColumns(AddsLogits(input)))
        {
            builder.AddColumn(name, type);
        }

        return builder.ToSchema();
    }
}
