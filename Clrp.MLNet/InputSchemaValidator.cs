using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Checks that an input schema holds what the explainer reads, the way ML.NET's own transforms do: an
/// <see cref="ArgumentOutOfRangeException"/> for parameter "inputSchema" whose message names the column,
/// the expected type and the actual one.
/// </summary>
internal static class InputSchemaValidator
{
    /// <summary>The input column: a float vector of C·H·W values (or of unknown size, checked per row).</summary>
    public static void ValidateInput(DataViewSchema schema, ExplanationLayout layout)
    {
        DataViewSchema.Column column = Require(schema, layout.InputColumn, layout.ExpectedInputText, "the preprocessed model input");
        if (column.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single)
        {
            throw Mismatch(layout.InputColumn, layout.ExpectedInputText, column.Type.ToString() ?? "?");
        }

        if (vector.IsKnownSize && vector.Size != layout.InputLength)
        {
            throw Mismatch(layout.InputColumn, $"{layout.ExpectedInputText} ({layout.InputLength} values)", $"{vector} ({vector.Size} values)");
        }

        if (layout.TargetColumn is { } target)
        {
            DataViewSchema.Column targetColumn = Require(schema, target, "a key or an integral number", "the class to explain");
            ValidateTargetType(target, targetColumn.Type);
            _ = KeyClassMap.Create(targetColumn, layout);
        }
    }

    /// <summary>The same checks on a <see cref="SchemaShape"/>, which carries no vector sizes.</summary>
    public static void ValidateInput(SchemaShape shape, string inputColumn, string? targetColumn)
    {
        SchemaShape.Column column = Find(shape, inputColumn)
            ?? throw Mismatch(inputColumn, "a vector of Single", "column not found", "the preprocessed model input");
        if (column.ItemType != NumberDataViewType.Single || column.Kind == SchemaShape.Column.VectorKind.Scalar || column.IsKey)
        {
            throw Mismatch(inputColumn, "a vector of Single", $"{column.Kind} of {column.ItemType}");
        }

        if (targetColumn is not null)
        {
            SchemaShape.Column target = Find(shape, targetColumn)
                ?? throw Mismatch(targetColumn, "a key or an integral number", "column not found", "the class to explain");
            if (target.Kind != SchemaShape.Column.VectorKind.Scalar || !(target.IsKey || IsNumber(target.ItemType)))
            {
                throw Mismatch(targetColumn, "a key or an integral number", $"{target.Kind} of {target.ItemType}");
            }
        }
    }

    /// <summary>A target column holds a key or a scalar number.</summary>
    public static void ValidateTargetType(string name, DataViewType type)
    {
        if (!(type is KeyDataViewType || IsNumber(type)))
        {
            throw Mismatch(name, "a key or an integral number (the class to explain)", type.ToString() ?? "?");
        }
    }

    private static bool IsNumber(DataViewType type) => type is NumberDataViewType;

    private static DataViewSchema.Column Require(DataViewSchema schema, string name, string expected, string role) =>
        schema.GetColumnOrNull(name) ?? throw Mismatch(name, expected, "column not found", role);

    private static SchemaShape.Column? Find(SchemaShape shape, string name)
    {
        foreach (SchemaShape.Column column in shape)
        {
            if (column.Name == name)
            {
                return column;
            }
        }

        return null;
    }

    private static ArgumentOutOfRangeException Mismatch(string column, string expected, string actual, string? role = null) =>
        new("inputSchema", $"Schema mismatch for input column '{column}'{(role is null ? "" : $" ({role})")}: expected {expected}, got {actual}.");
}
