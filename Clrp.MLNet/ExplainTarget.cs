namespace Clrp.MLNet;

/// <summary>
/// Which class each row is explained for: the model's prediction, one fixed class, the top-k classes, or the
/// class held in a column of the row (a label, or ML.NET's <c>PredictedLabel</c> key).
/// </summary>
public sealed record ExplainTarget
{
    private ExplainTarget(ExplainTargetKind kind, int value, string? columnName)
    {
        Kind = kind;
        Value = value;
        ColumnName = columnName;
    }

    /// <summary>What the target is.</summary>
    public ExplainTargetKind Kind { get; }

    /// <summary>The class for <see cref="ExplainTargetKind.Class"/>, k for <see cref="ExplainTargetKind.TopK"/>, else 0.</summary>
    public int Value { get; }

    /// <summary>The column for <see cref="ExplainTargetKind.Column"/>, else null.</summary>
    public string? ColumnName { get; }

    /// <summary>The arg-max of each row's logits (the default).</summary>
    public static ExplainTarget Predicted { get; } = new(ExplainTargetKind.Predicted, 0, null);

    /// <summary>Class <paramref name="index"/> (0-based) for every row.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public static ExplainTarget Class(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return new(ExplainTargetKind.Class, index, null);
    }

    /// <summary>The <paramref name="k"/> highest-scoring classes of each row, best first; the output columns gain a leading axis k.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    public static ExplainTarget TopK(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return new(ExplainTargetKind.TopK, k, null);
    }

    /// <summary>
    /// The class held in column <paramref name="columnName"/>: an integral number (int, uint, long, float, double …
    /// holding 0 … K − 1), or a key (ML.NET's <c>PredictedLabel</c> or a <c>MapValueToKey</c> label), explained as the
    /// class its key <em>value</em> names — a class index, or a name in <see cref="ClrpExplainOptions.ClassNames"/> —
    /// whatever order the keys were numbered in. Keys whose values name no class are refused at <c>Fit</c>; a key
    /// without values means class v − 1; the missing key 0 is an error.
    /// </summary>
    public static ExplainTarget Column(string columnName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(columnName);
        return new(ExplainTargetKind.Column, 0, columnName);
    }

    /// <summary>Classes explained per row: k for top-k, else 1.</summary>
    public int ClassesPerRow => Kind == ExplainTargetKind.TopK ? Value : 1;

    public override string ToString() => Kind switch
    {
        ExplainTargetKind.Class => $"class {Value}",
        ExplainTargetKind.TopK => $"top-{Value}",
        ExplainTargetKind.Column => $"column '{ColumnName}'",
        _ => "predicted",
    };
}

/// <summary>The kinds of <see cref="ExplainTarget"/>.</summary>
public enum ExplainTargetKind
{
    /// <summary>The arg-max of the logits.</summary>
    Predicted,

    /// <summary>One fixed class.</summary>
    Class,

    /// <summary>The k best classes.</summary>
    TopK,

    /// <summary>The class held in a column.</summary>
    Column,
}
