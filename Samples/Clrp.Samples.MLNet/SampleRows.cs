using Microsoft.ML.Data;

namespace Clrp.Samples.MLNet;

/// <summary>One image file to explain.</summary>
public sealed class ImageFile
{
    public string ImagePath { get; set; } = "";
}

/// <summary>What the sample reads back from each explained row.</summary>
public sealed class ExplainedImage
{
    public string ImagePath { get; set; } = "";

    /// <summary>The model input (ExtractPixels' output), normalised as (pixel/255 − 0.2860)/0.3530.</summary>
    [VectorType(1, 28, 28)]
    [ColumnName("input")]
    public float[] Input { get; set; } = [];

    /// <summary>ApplyOnnxModel's output.</summary>
    [VectorType(10)]
    [ColumnName("probabilities")]
    public float[] Probabilities { get; set; } = [];

    [VectorType(1, 28, 28)]
    public float[] Relevance { get; set; } = [];

    [VectorType(28, 28)]
    public float[] Heatmap { get; set; } = [];

    public int ExplainedClass { get; set; }

    [VectorType(10)]
    public float[] Logits { get; set; } = [];
}
