using Clrp.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Reads what the explainer needs from the current row: the input vector (checked for length and finiteness)
/// and, for a column target, the class (checked against [0, K)). Errors name the column and the row position.
/// </summary>
internal sealed class RowInputReader
{
    private readonly DataViewRow _row;
    private readonly ExplanationLayout _layout;
    private readonly ValueGetter<VBuffer<float>> _input;
    private readonly Func<double>? _target;
    private readonly int[]? _keyMap;
    private VBuffer<float> _buffer;

    public RowInputReader(DataViewRow row, ExplanationLayout layout)
    {
        _row = row;
        _layout = layout;
        _input = row.GetGetter<VBuffer<float>>(row.Schema[layout.InputColumn]);
        if (layout.TargetColumn is { } name)
        {
            DataViewSchema.Column column = row.Schema[name];
            InputSchemaValidator.ValidateTargetType(name, column.Type);
            _keyMap = KeyClassMap.Create(column, layout);
            _target = TargetGetters.Create(row, column, _keyMap);
        }
    }

    /// <summary>Copies the current row's input into <paramref name="destination"/> (C·H·W values).</summary>
    /// <exception cref="InvalidInputException">The vector has the wrong length or holds NaN/±Inf.</exception>
    public void ReadInput(Span<float> destination)
    {
        _input(ref _buffer);
        if (_buffer.Length != _layout.InputLength)
        {
            throw new InvalidInputException($"column '{_layout.InputColumn}' row {_row.Position}: expected {_layout.InputLength} values ({_layout.ExpectedInputText}), got {_buffer.Length}.");
        }

        _buffer.CopyTo(destination);
        int bad = IndexOfNonFinite(destination);
        if (bad >= 0)
        {
            throw new InvalidInputException($"column '{_layout.InputColumn}' row {_row.Position} holds {destination[bad]} at index {bad}; NaN and ±Inf cannot be explained.");
        }
    }

    /// <summary>The class to explain for the current row (column targets only).</summary>
    /// <exception cref="InvalidTargetException">The value is missing, not integral, or outside [0, K).</exception>
    public int ReadTarget()
    {
        double value = _target!();
        int classes = _layout.Classes;
        if (double.IsNaN(value) || value != Math.Floor(value) || value < 0 || value >= classes)
        {
            string shown = _row.Schema[_layout.TargetColumn!].Type is KeyDataViewType
                ? value < 0 ? "the missing key (0)" : _keyMap is null ? $"key {value + 1} (class {value})" : "a key outside its key values"
                : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw new InvalidTargetException($"column '{_layout.TargetColumn}' row {_row.Position} holds {shown}; the class to explain must be an integer in [0, {classes}) for a model with {classes} classes.");
        }

        return (int)value;
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
