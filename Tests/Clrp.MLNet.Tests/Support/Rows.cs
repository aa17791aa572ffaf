using Microsoft.ML.Data;

namespace Clrp.MLNet.Tests.Support;

/// <summary>A fashion-vgg input row: the preprocessed image [1,28,28] and a label.</summary>
public sealed class FashionRow
{
    public string Name { get; set; } = "";

    [VectorType(1, 28, 28)]
    [ColumnName("input")]
    public float[] Input { get; set; } = [];

    public int Label { get; set; }
}

/// <summary>What tests read back from a fashion-vgg explanation (k = 1).</summary>
public sealed class FashionExplained
{
    public string Name { get; set; } = "";

    public int Label { get; set; }

    [VectorType(1, 28, 28)]
    public float[] Relevance { get; set; } = [];

    [VectorType(28, 28)]
    public float[] Heatmap { get; set; } = [];

    public int ExplainedClass { get; set; }

    [VectorType(10)]
    public float[] Logits { get; set; } = [];
}

/// <summary>A tiny-model input row with a variable-size vector, so that wrong sizes reach the explainer.</summary>
public sealed class TinyRow
{
    [ColumnName("x")]
    public float[] X { get; set; } = [];

    public float Target { get; set; }
}

/// <summary>A tiny-model input row with a fixed-size vector [1,8,8].</summary>
public sealed class TinyFixedRow
{
    public int Id { get; set; }

    [VectorType(1, 8, 8)]
    [ColumnName("x")]
    public float[] X { get; set; } = [];
}

/// <summary>What tests read back from the tiny model.</summary>
public sealed class TinyExplained
{
    public int Id { get; set; }

    [VectorType(1, 8, 8)]
    public float[] Relevance { get; set; } = [];

    public int ExplainedClass { get; set; }
}
