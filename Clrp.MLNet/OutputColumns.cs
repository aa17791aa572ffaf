using Microsoft.ML;

namespace Clrp.MLNet;

/// <summary>Indices of the added columns in an output schema, and which of them a consumer asked for.</summary>
internal sealed class OutputColumns
{
    private OutputColumns(int inputCount, int modelOutput, int relevance, int heatmap, int explainedClass, int logits)
    {
        ModelOutput = modelOutput;
        InputCount = inputCount;
        Relevance = relevance;
        Heatmap = heatmap;
        ExplainedClass = explainedClass;
        Logits = logits;
    }

    /// <summary>Columns [0, InputCount) are the input's, passed through.</summary>
    public int InputCount { get; }

    /// <summary>The index of the model's own output column (when the explainer stands in for ApplyOnnxModel), or −1.</summary>
    public int ModelOutput { get; }

    public int Relevance { get; }

    public int Heatmap { get; }

    public int ExplainedClass { get; }

    /// <summary>The index of the added Logits column, or −1 when the input already had one.</summary>
    public int Logits { get; }

    /// <summary>Locates the added columns, which <see cref="ExplanationLayout.OutputSchema"/> appends after the input's.</summary>
    public static OutputColumns Locate(DataViewSchema input, DataViewSchema output, bool hasModelOutput)
    {
        int n = input.Count;
        int m = hasModelOutput ? n : -1;
        int r = hasModelOutput ? n + 1 : n;
        return new OutputColumns(n, m, r, r + 1, r + 2, output.Count > r + 3 ? r + 3 : -1);
    }

    /// <summary>True when <paramref name="index"/> is one of the added columns.</summary>
    public bool IsAdded(int index) => index >= InputCount;
}
