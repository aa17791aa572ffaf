using System.Security.Cryptography;
using Clrp.Onnx;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// The fitted explainer: adds <c>Relevance</c>, <c>Heatmap</c>, <c>ExplainedClass</c> and (when absent) <c>Logits</c>
/// columns to any data with the model's preprocessed input. <see cref="Transform"/> is lazy and streams: rows are
/// explained in mini-batches when a cursor reads them. It works with <c>CreatePredictionEngine</c>, owns an ONNX
/// Runtime session (dispose it, or the chain that holds it), and may be used from several threads.
/// Persist it with <see cref="ClrpModel.Save(MLContext, ITransformer, DataViewSchema, string)"/> (or <see cref="Save(Stream)"/>):
/// <c>MLContext.Model.Save</c> cannot, see <see cref="ICanSaveModel.Save"/>.
/// </summary>
public sealed class ClrpTransformer : ITransformer, IDisposable
{
    private readonly ClrpExplainer _explainer;
    private readonly BatchExplainer _batches;
    private readonly byte[]? _modelBytes;
    private readonly byte[] _modelHash;

    // Set by Dispose. Like ML.NET's OnnxTransformer, this transformer is disposed with the chain that holds it —
    // including by a disposed PredictionEngine — and cannot be used afterwards; it then says so instead of
    // reaching a released ONNX Runtime session (issue 12).
    private volatile bool _disposed;

    private ClrpTransformer(ClrpExplainer explainer, ExplanationLayout layout, byte[]? modelBytes, byte[] modelHash)
    {
        _explainer = explainer;
        _batches = new BatchExplainer(explainer, layout);
        _modelBytes = modelBytes;
        _modelHash = modelHash;
    }

    /// <summary>The options in effect (a copy; <see cref="ClrpExplainOptions.InputColumnName"/> resolved).</summary>
    public ClrpExplainOptions Options => Checked(Layout).Options.Clone();

    /// <summary>Per-row input dimensions, [C,H,W] for images; Relevance has these (with a leading k for top-k).</summary>
    public IReadOnlyList<int> InputDimensions => Checked(Layout).InputDims;

    /// <summary>K, the number of classes (the length of the Logits column).</summary>
    public int ClassCount => Checked(Layout).Classes;

    /// <summary>ONNX Runtime's execution provider for the forward pass ("CPU" or "CUDA:id").</summary>
    public string ExecutionProvider => _explainer.ExecutionProvider;

    /// <summary>
    /// The engine that explains: "compiled" (one ONNX Runtime graph) or "managed" (the managed walk); "pending" while a model of
    /// dynamic size has not been explained yet (its graph is compiled for the first image size it sees).
    /// </summary>
    public string Engine => _explainer.Engine;

    /// <summary>Always true: the explainer maps each row on its own (see <see cref="GetRowToRowMapper"/>).</summary>
    public bool IsRowToRowMapper => true;

    internal ExplanationLayout Layout => _batches.Layout;

    /// <summary>The input schema's columns followed by the added ones.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column the explainer reads is missing or has the wrong type or size; the message names it.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ObjectDisposedException.ThrowIf(_disposed, this);
        InputSchemaValidator.ValidateInput(inputSchema, Layout);
        return Layout.OutputSchema(inputSchema);
    }

    /// <summary>A lazy view of <paramref name="input"/> with the added columns; nothing is explained until a cursor reads them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A column the explainer reads is missing or has the wrong type or size.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(_disposed, this);
        InputSchemaValidator.ValidateInput(input.Schema, Layout);
        return new ExplanationDataView(input, _batches);
    }

    /// <summary>A row mapper for prediction engines: each row is explained alone when an added column is read.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ObjectDisposedException.ThrowIf(_disposed, this);
        InputSchemaValidator.ValidateInput(inputSchema, Layout);
        return new ExplanationRowMapper(inputSchema, _batches);
    }

    /// <summary>
    /// Not supported: ML.NET 5.0.1 writes and reads transformers through internal machinery (the
    /// <c>ModelSaveContext</c> writers and <c>SetVersionInfo</c>, the <c>LoadableClass</c> registration the loader
    /// looks up), and its public custom-mapping route saves only a contract name, which cannot carry the model and
    /// the options. Use <see cref="ClrpModel.Save(MLContext, ITransformer, DataViewSchema, string)"/> and
    /// <see cref="ClrpModel.Load(MLContext, string, out DataViewSchema)"/> for a whole pipeline.
    /// </summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("ClrpTransformer cannot be saved with MLContext.Model.Save: ML.NET's loader registration is internal. Save the pipeline with Clrp.MLNet.ClrpModel.Save(mlContext, model, schema, path) and load it with ClrpModel.Load(mlContext, path, out schema); the file also holds the ML.NET part of the pipeline.");

    /// <summary>Writes the explainer (options, dimensions and the ONNX model itself) to <paramref name="stream"/>.</summary>
    /// <exception cref="InvalidOperationException">The model file changed on disk since the explainer loaded it.</exception>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ObjectDisposedException.ThrowIf(_disposed, this);
        byte[] model = _modelBytes ?? File.ReadAllBytes(Layout.Options.ModelPath);
        if (!SHA256.HashData(model).AsSpan().SequenceEqual(_modelHash))
        {
            throw new InvalidOperationException($"model file '{Layout.Options.ModelPath}' changed since the explainer loaded it; fit the pipeline again before saving.");
        }

        TransformerFormat.Write(stream, Layout, model);
    }

    /// <summary>Reads an explainer written by <see cref="Save(Stream)"/>; GPU settings not fixed in its options follow <paramref name="ml"/>.</summary>
    /// <exception cref="ModelLoadException">The stream is not a saved explainer, is truncated, or was written by a newer format.</exception>
    public static ClrpTransformer Load(MLContext ml, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(stream);
        (ClrpExplainOptions options, int[] dims, byte[] model) = TransformerFormat.Read(stream);
        // The core loads models from files: stage the saved bytes in a temporary file for the duration of the load.
        string temp = Path.Combine(Path.GetTempPath(), $"clrp-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(temp, model);
            return Create(options, ml, temp, dims, model);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// An explainer of the model in <paramref name="model"/> (a graph composed in memory); <see cref="ClrpExplainOptions.ModelPath"/>
    /// only describes it. The bytes are kept, so <see cref="Save(Stream)"/> and <see cref="SaveOnnxModel"/> write them.
    /// </summary>
    internal static ClrpTransformer FromModelBytes(ClrpExplainOptions options, byte[] model, DataViewSchema inputSchema)
    {
        ExplainerSetup.Validate(options);
        string temp = Path.Combine(Path.GetTempPath(), $"clrp-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(temp, model);
            ClrpTransformer transformer = Create(options, null, temp, dims: null, modelBytes: model, inputSchema);
            try
            {
                InputSchemaValidator.ValidateInput(inputSchema, transformer.Layout);
                return transformer;
            }
            catch
            {
                transformer.Dispose();
                throw;
            }
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>
    /// Writes the ONNX model this explainer explains to <paramref name="path"/>: the file it was fitted with, or the graph
    /// <c>AppendExplain()</c> composed from a featurizer and a trained head (which <c>clrp explain --model</c> then explains alike).
    /// </summary>
    public void SaveOnnxModel(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllBytes(path, _modelBytes ?? File.ReadAllBytes(Layout.Options.ModelPath));
    }

    /// <summary>The model's class names when known (<see cref="ClrpExplainOptions.ClassNames"/>; a composed head's label values), else null.</summary>
    public IReadOnlyList<string>? ClassNames => Layout.ClassNames;

    /// <summary>Loads the model named in <paramref name="options"/> and fixes the layout against <paramref name="inputSchema"/>.</summary>
    /// <param name="options">What to explain; bounds not given come from an <c>ExtractPixels</c> step that wrote the input column of <paramref name="data"/>.</param>
    /// <param name="ml">GPU defaults, or null.</param>
    /// <param name="inputSchema">The schema the explainer will read.</param>
    /// <param name="data">The data being fitted, walked back to find the <c>ExtractPixels</c> step; null = none.</param>
    internal static ClrpTransformer Fit(ClrpExplainOptions options, MLContext? ml, DataViewSchema inputSchema, IDataView? data = null)
    {
        ExplainerSetup.Validate(options);
        options = WithPixelBounds(options, data);
        ClrpTransformer transformer = Create(options, ml, options.ModelPath, dims: null, modelBytes: null, inputSchema);
        try
        {
            InputSchemaValidator.ValidateInput(inputSchema, transformer.Layout);
            return transformer;
        }
        catch
        {
            transformer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <paramref name="options"/> with z^B bounds from the <c>ExtractPixels</c> step that wrote the input column, when none
    /// are given and the model's first linear layer reads its input as is. A model that normalises inside the graph (Sub/Div
    /// before its first Conv) keeps the default, each image's own range at that layer.
    /// </summary>
    private static ClrpExplainOptions WithPixelBounds(ClrpExplainOptions options, IDataView? data)
    {
        if (data is null || ExplainerSetup.Bounds(options) is not null)
        {
            return options;
        }

        ModelReport report = ClrpExplainer.Inspect(options.ModelPath, new ExplainerOptions { OutputName = options.OutputTensorName });
        string column = options.InputColumnName ?? report.Input.Name;
        bool firstLayerReadsInput = report.Nodes.FirstOrDefault(n => n.Node.Name == report.FirstLinearLayer)?.Node.Input(0) == report.Input.Name;
        if (!firstLayerReadsInput || Chain.PixelBounds.Find(data, column) is not { } range)
        {
            return options;
        }

        ClrpExplainOptions copy = options.Clone();
        copy.Low = [range.Low];
        copy.High = [range.High];
        return copy;
    }

    private static ClrpTransformer Create(ClrpExplainOptions options, MLContext? ml, string path, int[]? dims, byte[]? modelBytes, DataViewSchema? inputSchema = null)
    {
        options = options.Clone();
        var explainerOptions = ExplainerSetup.ToExplainerOptions(options, ExplainerSetup.ResolveDevice(options, ml), log: null);
        ClrpExplainer explainer = ClrpExplainer.Load(path, explainerOptions);
        try
        {
            options.InputColumnName ??= explainer.Input.Name;
            dims ??= ResolveDims(explainer, inputSchema?.GetColumnOrNull(options.InputColumnName), path, options.InputColumnName);
            int classes = CountClasses(explainer, dims);
            if (options.Target.ClassesPerRow > classes || (options.Target.Kind == ExplainTargetKind.Class && options.Target.Value >= classes))
            {
                throw new InvalidTargetException($"target {options.Target} does not fit model '{options.ModelPath}' with {classes} classes.");
            }

            byte[] hash = modelBytes is null ? SHA256.HashData(File.ReadAllBytes(path)) : SHA256.HashData(modelBytes);
            ModelOutputColumn? output = options.AddModelOutputColumn ? ModelOutputColumn.Resolve(path, explainer.LogitsName, options.OutputTensorName, classes) : null;
            var layout = new ExplanationLayout(options, options.InputColumnName, dims, classes, output);
            return new ClrpTransformer(explainer, layout, modelBytes, hash);
        }
        catch
        {
            explainer.Dispose();
            throw;
        }
    }

    /// <summary>[C,H,W] from the model input, or from the input column's dimensions where the model leaves them open.</summary>
    private static int[] ResolveDims(ClrpExplainer explainer, DataViewSchema.Column? column, string path, string columnName)
    {
        IReadOnlyList<long?>? model = explainer.Input.Dimensions;
        if (model is { Count: >= 2 } && model.Skip(1).All(d => d is > 0))
        {
            return model.Skip(1).Select(d => checked((int)d!.Value)).ToArray();
        }

        if (column?.Type is VectorDataViewType { IsKnownSize: true } vector && (model is null || vector.Dimensions.Length == model.Count - 1))
        {
            return vector.Dimensions.ToArray();
        }

        throw new InvalidOptionsException($"model '{path}' input '{explainer.Input.Name}' has shape {explainer.Input.ShapeText}, with open per-image dimensions; give column '{columnName}' fixed dimensions (e.g. ResizeImages then ExtractPixels) so that Relevance has a known size.");
    }

    /// <summary>K, from one explanation of a zero input (the core exposes the logits' length only after a run); this also proves the model runs.</summary>
    private static int CountClasses(ClrpExplainer explainer, int[] dims)
    {
        var zeros = new Tensor(new float[Tensor.CheckedCount(dims)], [1, .. dims]);
        return explainer.Explain(zeros, Target.Class(0)).Logits.RowLength;
    }

    /// <summary>
    /// Releases the ONNX Runtime session, after explanations in flight have finished. Every member then throws
    /// <see cref="ObjectDisposedException"/>, and so do cursors opened before.
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        _explainer.Dispose();
    }

    private T Checked<T>(T value)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return value;
    }
}
