namespace Clrp.Onnx.Graph;

/// <summary>
/// A graph input or output as declared in the file: its element type and dimensions, where a
/// dimension is null when it is symbolic (e.g. a dynamic batch axis) or unknown.
/// </summary>
public sealed record ValueInfo(string Name, int ElementType, IReadOnlyList<long?>? Dimensions)
{
    /// <summary>ONNX TensorProto.DataType.FLOAT.</summary>
    public const int Float = 1;

    /// <summary>Readable element type name.</summary>
    public string ElementTypeName => ElementType switch
    {
        1 => "float32", 2 => "uint8", 3 => "int8", 5 => "int16", 6 => "int32", 7 => "int64", 8 => "string",
        9 => "bool", 10 => "float16", 11 => "float64", 16 => "bfloat16", 0 => "unknown", _ => $"type {ElementType}",
    };

    /// <summary>"[N,3,224,224]" with symbolic dimensions shown as '?'.</summary>
    public string ShapeText => Dimensions is null ? "[unknown rank]" : "[" + string.Join(',', Dimensions.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?")) + "]";
}
