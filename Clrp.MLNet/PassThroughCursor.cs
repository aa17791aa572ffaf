using Microsoft.ML;

namespace Clrp.MLNet;

/// <summary>
/// The cursor used when no added column is requested: it explains nothing and hands out the input's
/// columns, which keep their indices in the output schema.
/// </summary>
internal sealed class PassThroughCursor : DataViewRowCursor
{
    private readonly DataViewRowCursor _input;
    private readonly DataViewSchema _schema;

    public PassThroughCursor(DataViewRowCursor input, DataViewSchema schema)
    {
        _input = input;
        _schema = schema;
    }

    public override DataViewSchema Schema => _schema;

    public override long Position => _input.Position;

    public override long Batch => _input.Batch;

    public override bool IsColumnActive(DataViewSchema.Column column) =>
        column.Index < _input.Schema.Count && _input.IsColumnActive(_input.Schema[column.Index]);

    public override bool MoveNext() => _input.MoveNext();

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
        column.Index < _input.Schema.Count
            ? _input.GetGetter<TValue>(_input.Schema[column.Index])
            : throw new InvalidOperationException($"column '{column.Name}' was not requested when this cursor was created.");

    public override ValueGetter<Microsoft.ML.Data.DataViewRowId> GetIdGetter() => _input.GetIdGetter();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
        }

        base.Dispose(disposing);
    }
}
