using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.MLNet;

/// <summary>
/// Explains a mini-batch of rows with the core <see cref="ClrpExplainer"/> (one forward pass, one backward walk)
/// and lays the results out per row. Thread-safe: it keeps no per-call state.
/// </summary>
internal sealed class BatchExplainer
{
    private readonly ClrpExplainer _explainer;
    private readonly ExplanationLayout _layout;

    public BatchExplainer(ClrpExplainer explainer, ExplanationLayout layout)
    {
        _explainer = explainer;
        _layout = layout;
    }

    public ExplanationLayout Layout => _layout;

    /// <summary>Explains rows [0, <paramref name="rows"/>) of <paramref name="inputs"/> (rows × C·H·W values).</summary>
    /// <param name="inputs">Row-major inputs; only the first <paramref name="rows"/> rows are read.</param>
    /// <param name="rows">The number of rows in this mini-batch.</param>
    /// <param name="targets">One class per row when the target is a column; null otherwise.</param>
    public ExplainedBatch Explain(float[] inputs, int rows, int[]? targets)
    {
        int length = _layout.InputLength;
        float[] data = inputs.Length == rows * length ? inputs : inputs.AsSpan(0, rows * length).ToArray();
        var batch = new Tensor(data, [rows, .. _layout.InputDims]);
        ExplainTarget target = _layout.Options.Target;
        Target coreTarget = target.Kind switch
        {
            ExplainTargetKind.Class => Target.Class(target.Value),
            ExplainTargetKind.TopK => Target.TopK(target.Value),
            ExplainTargetKind.Column => Target.PerImage(targets![..rows]),
            _ => Target.Predicted,
        };
        Explanation e = _explainer.Explain(batch, coreTarget);
        float[]? output = null;
        if (_layout.ModelOutput is { } column)
        {
            // The explainer's forward pass already holds the logits: the model's output is computed from them, not run again.
            int classes = _layout.Classes;
            output = new float[rows * classes];
            for (int r = 0; r < rows; r++)
            {
                column.Compute(e.Logits.Data.AsSpan(r * classes, classes), output.AsSpan(r * classes, classes));
            }
        }

        return new ExplainedBatch(rows, e.Relevance.Data, e.Heatmap.Data, e.Logits.Data, [.. e.TargetClasses], output);
    }
}
