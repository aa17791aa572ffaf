using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Row-to-row mapping for <c>CreatePredictionEngine</c> and transformer chains: each output row explains its
/// input row alone (a mini-batch of one) the first time an added column is read at a new position.
/// </summary>
internal sealed class ExplanationRowMapper : IRowToRowMapper
{
    private readonly BatchExplainer _explainer;
    private readonly OutputColumns _outputs;

    public ExplanationRowMapper(DataViewSchema inputSchema, BatchExplainer explainer)
    {
        InputSchema = inputSchema;
        _explainer = explainer;
        OutputSchema = explainer.Layout.OutputSchema(inputSchema);
        _outputs = OutputColumns.Locate(inputSchema, OutputSchema, explainer.Layout.ModelOutput is not null);
    }

    public DataViewSchema InputSchema { get; }

    public DataViewSchema OutputSchema { get; }

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = new HashSet<int>();
        foreach (DataViewSchema.Column column in dependingColumns)
        {
            if (!_outputs.IsAdded(column.Index))
            {
                needed.Add(column.Index);
                continue;
            }

            needed.Add(InputSchema[_explainer.Layout.InputColumn].Index);
            if (_explainer.Layout.TargetColumn is { } target)
            {
                needed.Add(InputSchema[target].Index);
            }
        }

        return needed.Order().Select(i => InputSchema[i]);
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool[] active = new bool[OutputSchema.Count];
        foreach (DataViewSchema.Column column in activeColumns)
        {
            active[column.Index] = true;
        }

        return new ExplanationRow(input, OutputSchema, _explainer, _outputs, active);
    }

    /// <summary>A row over <c>input</c> whose added columns are explained lazily, once per input position.</summary>
    private sealed class ExplanationRow : DataViewRow
    {
        private readonly DataViewRow _input;
        private readonly DataViewSchema _schema;
        private readonly BatchExplainer _explainer;
        private readonly OutputColumns _outputs;
        private readonly bool[] _active;
        private readonly float[] _values;
        private readonly int[]? _target;
        private RowInputReader? _reader;
        private ExplainedBatch? _batch;
        private long _explainedPosition = -1;

        public ExplanationRow(DataViewRow input, DataViewSchema schema, BatchExplainer explainer, OutputColumns outputs, bool[] active)
        {
            _input = input;
            _schema = schema;
            _explainer = explainer;
            _outputs = outputs;
            _active = active;
            _values = new float[explainer.Layout.InputLength];
            _target = explainer.Layout.TargetColumn is null ? null : new int[1];
        }

        public override DataViewSchema Schema => _schema;

        public override long Position => _input.Position;

        public override long Batch => _input.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            _outputs.IsAdded(column.Index)
                ? OutputGetters.Create<TValue>(column, _outputs, _explainer.Layout, Explained)
                : _input.GetGetter<TValue>(_input.Schema[column.Index]);

        private (ExplainedBatch Batch, int Row) Explained()
        {
            if (_batch is null || _explainedPosition != _input.Position)
            {
                _explainer.Layout.Options.CancellationToken.ThrowIfCancellationRequested();
                _reader ??= new RowInputReader(_input, _explainer.Layout);
                _reader.ReadInput(_values);
                if (_target is not null)
                {
                    _target[0] = _reader.ReadTarget();
                }

                _batch = _explainer.Explain(_values, 1, _target);
                _explainedPosition = _input.Position;
            }

            return (_batch, 0);
        }
    }
}
