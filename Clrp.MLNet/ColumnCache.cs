using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Holds one input column's values for the rows of a mini-batch. The explaining cursor reads a whole
/// mini-batch from its input before serving row 0, so the input cursor has moved on by the time the
/// consumer asks for a passed-through column: the values are kept here, one slot per row.
/// </summary>
internal abstract class ColumnCache
{
    /// <summary>A cache for <paramref name="column"/> of <paramref name="row"/>, with <paramref name="capacity"/> slots.</summary>
    public static ColumnCache Create(DataViewRow row, DataViewSchema.Column column, int capacity)
    {
        Type raw = column.Type.RawType;
        Type cache = raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>)
            ? typeof(VBufferCache<>).MakeGenericType(raw.GetGenericArguments()[0])
            : typeof(ValueCache<>).MakeGenericType(raw);
        return (ColumnCache)Activator.CreateInstance(cache, row, column, capacity)!;
    }

    /// <summary>Reads the current row's value into slot <paramref name="slot"/>.</summary>
    public abstract void Store(int slot);

    /// <summary>A getter of the value in the slot that <paramref name="slot"/> returns when called.</summary>
    public abstract Delegate Getter(Func<int> slot);

    /// <summary>Scalars, text and references: a value copy is enough.</summary>
    private sealed class ValueCache<T> : ColumnCache
    {
        private readonly ValueGetter<T> _source;
        private readonly T[] _values;

        public ValueCache(DataViewRow row, DataViewSchema.Column column, int capacity)
        {
            _source = row.GetGetter<T>(column);
            _values = new T[capacity];
        }

        public override void Store(int slot)
        {
            // A fresh value each row: sources of reference types (images) may dispose what they are handed back.
            T value = default!;
            _source(ref value);
            _values[slot] = value;
        }

        public override Delegate Getter(Func<int> slot) => (ValueGetter<T>)((ref T value) => value = _values[slot()]);
    }

    /// <summary>Vectors: each slot keeps its own buffer (reused from batch to batch), and readers get a copy.</summary>
    private sealed class VBufferCache<T> : ColumnCache
    {
        private readonly ValueGetter<VBuffer<T>> _source;
        private readonly VBuffer<T>[] _values;
        private VBuffer<T> _scratch;

        public VBufferCache(DataViewRow row, DataViewSchema.Column column, int capacity)
        {
            _source = row.GetGetter<VBuffer<T>>(column);
            _values = new VBuffer<T>[capacity];
        }

        public override void Store(int slot)
        {
            // Copy out of the scratch buffer: some sources hand out arrays they overwrite on the next row.
            _source(ref _scratch);
            _scratch.CopyTo(ref _values[slot]);
        }

        public override Delegate Getter(Func<int> slot) => (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) => _values[slot()].CopyTo(ref value));
    }
}
