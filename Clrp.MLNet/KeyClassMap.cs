using System.Globalization;
using Clrp.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Maps the keys of a key-typed target column to the model's class indices through the key <em>values</em> (the
/// <c>KeyValues</c> annotation), not through the key's position: <c>MapValueToKey</c> numbers keys in the order the
/// values first occur, so labels 9, 2, 1, 6 become keys 1, 2, 3, 4, and "key − 1" would explain classes 0, 1, 2, 3.
/// A key value is a class when it is an integral number (or text of one) in [0, K), or, when the model's class names
/// are known (<see cref="ClrpExplainOptions.ClassNames"/>, or the label values of a composed ML.NET head), one of those
/// names. A key without values (e.g. from <c>ConvertType</c>) keeps ML.NET's meaning: key v is class v − 1.
/// </summary>
internal static class KeyClassMap
{
    /// <summary>The annotation holding a key's values (ML.NET's <c>AnnotationUtils.Kinds.KeyValues</c>, internal to it).</summary>
    private const string KeyValues = "KeyValues";

    /// <summary>
    /// Class index per key (entry v − 1 for key v), or null for a key without values (key v is class v − 1).
    /// </summary>
    /// <exception cref="InvalidTargetException">Some key values are not classes of the model; the message says how to fix it.</exception>
    public static int[]? Create(DataViewSchema.Column column, ExplanationLayout layout)
    {
        // HasKeyValues() without an argument looks for text values only; numeric key values are as common (labels 0…9).
        if (column.Type is not KeyDataViewType || column.Annotations.Schema.GetColumnOrNull(KeyValues) is not { Type: VectorDataViewType valueType })
        {
            return null;
        }

        string[] values = ReadKeyValues(column, valueType.ItemType);
        IReadOnlyList<string>? names = layout.ClassNames;
        var map = new int[values.Length];
        var bad = new List<string>();
        for (int i = 0; i < values.Length; i++)
        {
            map[i] = ClassOf(values[i], names, layout.Classes);
            if (map[i] < 0)
            {
                bad.Add(values[i]);
            }
        }

        if (bad.Count > 0)
        {
            string shown = string.Join(", ", bad.Take(5).Select(v => $"'{v}'")) + (bad.Count > 5 ? $" and {bad.Count - 5} more" : "");
            string expected = names is null
                ? $"integral class indices in [0, {layout.Classes})"
                : $"class indices in [0, {layout.Classes}) or names of the model's classes ({string.Join(", ", names.Take(5).Select(n => $"'{n}'"))}{(names.Count > 5 ? ", …" : "")})";
            throw new InvalidTargetException(
                $"column '{column.Name}' is a key whose values {shown} are not classes of model '{layout.Options.ModelPath}' ({layout.Classes} classes): " +
                $"its keys are explained as the class their value names, so the values must be {expected}. " +
                "Fix: build the key from a column holding the model's class index (MapValueToKey over 0…K−1, or use that number column directly), " +
                "or set ClrpExplainOptions.ClassNames to the model's class names in order.");
        }

        return map;
    }

    /// <summary>The key values of <paramref name="column"/> as text, or null when it has none.</summary>
    public static string[]? KeyValueTexts(DataViewSchema.Column column) =>
        column.Type is KeyDataViewType && column.Annotations.Schema.GetColumnOrNull(KeyValues) is { Type: VectorDataViewType valueType }
            ? ReadKeyValues(column, valueType.ItemType)
            : null;

    /// <summary>The class a key value names, or −1.</summary>
    private static int ClassOf(string value, IReadOnlyList<string>? names, int classes)
    {
        if (names is not null)
        {
            for (int c = 0; c < names.Count && c < classes; c++)
            {
                if (string.Equals(names[c], value, StringComparison.Ordinal))
                {
                    return c;
                }
            }
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
            && number == Math.Floor(number) && number >= 0 && number < classes ? (int)number : -1;
    }

    /// <summary>The key values as invariant text (numbers round-trip, booleans as 0/1).</summary>
    private static string[] ReadKeyValues(DataViewSchema.Column column, DataViewType item) =>
        item.RawType switch
        {
            Type t when t == typeof(ReadOnlyMemory<char>) => Read<ReadOnlyMemory<char>>(column, m => m.ToString()),
            Type t when t == typeof(bool) => Read<bool>(column, b => b ? "1" : "0"),
            Type t when t == typeof(float) => Read<float>(column, f => f.ToString("R", CultureInfo.InvariantCulture)),
            Type t when t == typeof(double) => Read<double>(column, d => d.ToString("R", CultureInfo.InvariantCulture)),
            Type t when t == typeof(int) => Read<int>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            Type t when t == typeof(uint) => Read<uint>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            Type t when t == typeof(long) => Read<long>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            Type t when t == typeof(ulong) => Read<ulong>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            Type t when t == typeof(short) => Read<short>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            Type t when t == typeof(ushort) => Read<ushort>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            Type t when t == typeof(byte) => Read<byte>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            Type t when t == typeof(sbyte) => Read<sbyte>(column, n => n.ToString(CultureInfo.InvariantCulture)),
            _ => throw new InvalidTargetException($"column '{column.Name}' is a key whose values have type {item}; expected numbers or text naming the model's classes."),
        };

    private static string[] Read<T>(DataViewSchema.Column column, Func<T, string> text)
    {
        VBuffer<T> values = default;
        column.Annotations.GetValue(KeyValues, ref values);
        return values.DenseValues().Select(text).ToArray();
    }
}
