using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Reads a target column of any key or number type as a class index (a double, so that fractions and
/// out-of-range values survive to be reported). Keys count from 1 (0 is the missing key): key v is the class its
/// value names (<see cref="KeyClassMap"/>), or class v − 1 for a key without values; the missing key reads as −1.
/// </summary>
internal static class TargetGetters
{
    public static Func<double> Create(DataViewRow row, DataViewSchema.Column column, int[]? keyMap)
    {
        Func<ulong, double> key = v => v == 0 ? -1 : keyMap is null ? v - 1d : v <= (ulong)keyMap.Length ? keyMap[v - 1] : double.NaN;
        return column.Type.RawType switch
        {
            Type t when t == typeof(uint) => Read<uint>(row, column, v => key(v)),
            Type t when t == typeof(ulong) => Read<ulong>(row, column, key),
            Type t when t == typeof(ushort) => Read<ushort>(row, column, v => key(v)),
            Type t when t == typeof(byte) => Read<byte>(row, column, v => key(v)),
            Type t when t == typeof(int) => Read<int>(row, column, v => v),
            Type t when t == typeof(long) => Read<long>(row, column, v => v),
            Type t when t == typeof(short) => Read<short>(row, column, v => v),
            Type t when t == typeof(sbyte) => Read<sbyte>(row, column, v => v),
            Type t when t == typeof(float) => Read<float>(row, column, v => v),
            Type t when t == typeof(double) => Read<double>(row, column, v => v),
            _ => throw new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for input column '{column.Name}': expected a key or an integral number (the class to explain), got {column.Type}."),
        };
    }

    private static Func<double> Read<T>(DataViewRow row, DataViewSchema.Column column, Func<T, double> convert)
    {
        ValueGetter<T> getter = row.GetGetter<T>(column);
        T value = default!;
        return () =>
        {
            getter(ref value);
            return convert(value);
        };
    }
}
