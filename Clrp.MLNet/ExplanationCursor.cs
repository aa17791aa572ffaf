using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// The explaining cursor: when the rows it has explained run out, it reads the next mini-batch from its input
/// cursor (keeping the requested input columns of each row), explains the batch in one call, and then serves the
/// rows one by one. It holds one mini-batch at a time, so memory does not grow with the number of rows.
/// </summary>
internal sealed class ExplanationCursor : DataViewRowCursor
{
    private readonly DataViewRowCursor _input;
    private readonly DataViewSchema _schema;
    private readonly BatchExplainer _explainer;
    private readonly OutputColumns _outputs;
    private readonly bool[] _active;
    private readonly ColumnCache?[] _caches;
    private readonly RowInputReader _reader;
    private readonly ValueGetter<DataViewRowId> _idSource;
    private readonly DataViewRowId[] _ids;
    private readonly float[] _inputs;
    private readonly int[]? _targets;
    private readonly int _batchSize;
    private readonly CancellationToken _cancellation;
    private ExplainedBatch? _batch;
    private int _row = -1;
    private long _position = -1;
    private bool _done;

    public ExplanationCursor(DataViewRowCursor input, DataViewSchema schema, BatchExplainer explainer, OutputColumns outputs, bool[] active)
    {
        _input = input;
        _schema = schema;
        _explainer = explainer;
        _outputs = outputs;
        _active = active;
        ExplanationLayout layout = explainer.Layout;
        _batchSize = layout.Options.BatchSize;
        _cancellation = layout.Options.CancellationToken;
        _caches = new ColumnCache?[outputs.InputCount];
        for (int i = 0; i < outputs.InputCount; i++)
        {
            if (active[i])
            {
                _caches[i] = ColumnCache.Create(input, input.Schema[i], _batchSize);
            }
        }

        _reader = new RowInputReader(input, layout);
        _idSource = input.GetIdGetter();
        _ids = new DataViewRowId[_batchSize];
        _inputs = new float[_batchSize * layout.InputLength];
        _targets = layout.TargetColumn is null ? null : new int[_batchSize];
    }

    public override DataViewSchema Schema => _schema;

    public override long Position => _position;

    public override long Batch => 0;

    public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

    public override bool MoveNext()
    {
        _cancellation.ThrowIfCancellationRequested();
        if (_batch is not null && _row + 1 < _batch.Rows)
        {
            _row++;
            _position++;
            return true;
        }

        if (_done || !ReadBatch())
        {
            _done = true;
            _batch = null;
            return false;
        }

        _row = 0;
        _position++;
        return true;
    }

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_active[column.Index])
        {
            throw new InvalidOperationException($"column '{column.Name}' was not requested when this cursor was created.");
        }

        if (_outputs.IsAdded(column.Index))
        {
            return OutputGetters.Create<TValue>(column, _outputs, _explainer.Layout, Current);
        }

        return _caches[column.Index]!.Getter(() => _row) as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"column '{column.Name}' has raw type {column.Type.RawType.Name}, not {typeof(TValue).Name}.");
    }

    public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = _ids[_row];

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
        }

        base.Dispose(disposing);
    }

    private (ExplainedBatch Batch, int Row) Current() =>
        _batch is null ? throw new InvalidOperationException("the cursor is not on a row; call MoveNext first.") : (_batch, _row);

    /// <summary>Reads up to one mini-batch from the input and explains it; false when the input is exhausted.</summary>
    private bool ReadBatch()
    {
        int length = _explainer.Layout.InputLength;
        int rows = 0;
        while (rows < _batchSize)
        {
            _cancellation.ThrowIfCancellationRequested();
            if (!_input.MoveNext())
            {
                break;
            }

            _reader.ReadInput(_inputs.AsSpan(rows * length, length));
            if (_targets is not null)
            {
                _targets[rows] = _reader.ReadTarget();
            }

            _idSource(ref _ids[rows]);
            foreach (ColumnCache? cache in _caches)
            {
                cache?.Store(rows);
            }

            rows++;
        }

        if (rows == 0)
        {
            return false;
        }

        _batch = _explainer.Explain(_inputs, rows, _targets);
        return true;
    }
}
