namespace Clrp.MLNet;

/// <summary>
/// The explanations of one mini-batch of n rows, row-major: Relevance n×k×C·H·W, Heatmap n×k×H·W, Logits n×K,
/// Classes n×k. A cursor serves row i from these arrays without copying them again.
/// </summary>
internal sealed class ExplainedBatch
{
    public ExplainedBatch(int rows, float[] relevance, float[] heatmap, float[] logits, int[] classes, float[]? modelOutput = null)
    {
        ModelOutput = modelOutput;
        Rows = rows;
        Relevance = relevance;
        Heatmap = heatmap;
        Logits = logits;
        Classes = classes;
    }

    public int Rows { get; }

    public float[] Relevance { get; }

    public float[] Heatmap { get; }

    public float[] Logits { get; }

    public int[] Classes { get; }

    /// <summary>n×K values of the model's own output (probabilities for a final Softmax), when the layout adds it.</summary>
    public float[]? ModelOutput { get; }
}
