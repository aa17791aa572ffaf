using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Estimator of <see cref="ClrpTransformer"/>; nothing is trained: <see cref="Fit"/> loads the model, checks the
/// input schema and fixes the output dimensions. Create it with <c>ml.Transforms.ExplainClrp(options)</c> or
/// <c>pipeline.AppendExplain(ml, options)</c>.
/// </summary>
public sealed class ClrpEstimator : IEstimator<ClrpTransformer>
{
    private readonly ClrpExplainOptions _options;
    private readonly MLContext? _context;
    private Clrp.Onnx.Explaining.ModelReport? _report;

    /// <param name="options">What to explain and how; copied.</param>
    /// <param name="context">Supplies the GPU defaults (<c>GpuDeviceId</c>, <c>FallbackToCpu</c>); null = MLContext's defaults (CPU).</param>
    /// <exception cref="Clrp.Onnx.InvalidOptionsException">The options contradict each other.</exception>
    public ClrpEstimator(ClrpExplainOptions options, MLContext? context = null)
    {
        ExplainerSetup.Validate(options);
        _options = options.Clone();
        _context = context;
    }

    /// <summary>Loads the explainer for data with <paramref name="input"/>'s schema.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The input column or the target column is missing, or has the wrong type or size; the message names it.</exception>
    public ClrpTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return ClrpTransformer.Fit(_options, _context, input.Schema, input);
    }

    /// <summary>
    /// <paramref name="inputSchema"/> with Relevance, Heatmap and ExplainedClass (and Logits when absent) added.
    /// Checks the input column (a vector of Single) and the target column; a <see cref="SchemaShape"/> carries no
    /// vector sizes, so the size is checked by <see cref="Fit"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing or has the wrong type; the message names it, the expected and the actual type.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        string inputColumn = _options.InputColumnName ?? ModelInputName();
        InputSchemaValidator.ValidateInput(inputSchema, inputColumn, _options.Target.ColumnName);
        return AppendColumns(inputSchema, _options, _options.AddModelOutputColumn ? Report().ExplainedOutput : null);
    }

    /// <summary><paramref name="inputSchema"/> with the columns an explainer with <paramref name="options"/> adds.</summary>
    internal static SchemaShape AppendColumns(SchemaShape inputSchema, ClrpExplainOptions options, string? modelOutput)
    {
        var added = new List<(string, DataViewType)>();
        if (modelOutput is not null)
        {
            added.Add((modelOutput, new VectorDataViewType(NumberDataViewType.Single)));
        }

        added.AddRange(
        [
            (options.RelevanceColumnName, new VectorDataViewType(NumberDataViewType.Single)),
            (options.HeatmapColumnName, new VectorDataViewType(NumberDataViewType.Single)),
            (options.ExplainedClassColumnName, options.Target.ClassesPerRow > 1 ? new VectorDataViewType(NumberDataViewType.Int32) : NumberDataViewType.Int32),
        ]);
        if (!inputSchema.Any(c => c.Name == options.LogitsColumnName))
        {
            added.Add((options.LogitsColumnName, new VectorDataViewType(NumberDataViewType.Single)));
        }

        // Fixed-size vectors: a vector type of size 1 stands for "some known size" in a SchemaShape.
        return SchemaShapeFactory.Append(inputSchema, added.Select(c => (c.Item1, c.Item2 is VectorDataViewType v ? new VectorDataViewType((PrimitiveDataViewType)v.ItemType, 1) : c.Item2)));
    }

    /// <summary>The model's input name, read once without opening a runtime session.</summary>
    private string ModelInputName() => Report().Input.Name;

    /// <summary>The model's report, read once without opening a runtime session.</summary>
    private Clrp.Onnx.Explaining.ModelReport Report() =>
        _report ??= Clrp.Onnx.Explaining.ClrpExplainer.Inspect(_options.ModelPath, new Clrp.Onnx.Explaining.ExplainerOptions { OutputName = _options.OutputTensorName });
}
