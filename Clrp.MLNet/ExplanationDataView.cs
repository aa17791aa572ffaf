using Microsoft.ML;

namespace Clrp.MLNet;

/// <summary>
/// The lazy result of <see cref="ClrpTransformer.Transform"/>: nothing is explained until a cursor reads an
/// added column, and then only the rows it reads, a mini-batch at a time. Input columns pass through unchanged.
/// </summary>
internal sealed class ExplanationDataView : IDataView
{
    private readonly IDataView _input;
    private readonly BatchExplainer _explainer;
    private readonly OutputColumns _outputs;

    public ExplanationDataView(IDataView input, BatchExplainer explainer)
    {
        _input = input;
        _explainer = explainer;
        Schema = explainer.Layout.OutputSchema(input.Schema);
        _outputs = OutputColumns.Locate(input.Schema, Schema, explainer.Layout.ModelOutput is not null);
    }

    public DataViewSchema Schema { get; }

    public bool CanShuffle => _input.CanShuffle;

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        bool[] active = new bool[Schema.Count];
        foreach (DataViewSchema.Column column in columnsNeeded)
        {
            active[column.Index] = true;
        }

        bool explains = active.Skip(_outputs.InputCount).Any(a => a);
        var inputColumns = new HashSet<int>(Enumerable.Range(0, _outputs.InputCount).Where(i => active[i]));
        if (explains)
        {
            ExplanationLayout layout = _explainer.Layout;
            inputColumns.Add(_input.Schema[layout.InputColumn].Index);
            if (layout.TargetColumn is { } target)
            {
                inputColumns.Add(_input.Schema[target].Index);
            }
        }

        DataViewRowCursor cursor = _input.GetRowCursor(inputColumns.Select(i => _input.Schema[i]), rand);
        return explains ? new ExplanationCursor(cursor, Schema, _explainer, _outputs, active) : new PassThroughCursor(cursor, Schema);
    }

    /// <summary>One cursor: the explainer batches rows itself, and ONNX Runtime already uses every core.</summary>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}
