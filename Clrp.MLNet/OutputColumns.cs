using Microsoft.ML;

namespace Clrp.MLNet;

/// <summary>Indices of the added columns in an output schema, and which of them a consumer asked for.</summary>
internal sealed class OutputColumns
{
    private OutputColumns(int inputCount, int relevance, int heatmap, int explainedClass, int logits)
    {
        InputCount = inputCount;
        Relevance = relevance;
        Heatmap = heatmap;
        ExplainedClass = explainedClass;
        Logits = logits;
    }

    /// <summary>Columns [0, InputCount) are the input's, passed through.</summary>
    public int InputCount { get; }

    public int Relevance { get; }

    public int Heatmap { get; }

    public int ExplainedClass { get; }

    /// <summary>The index of the added Logits column, or −1 when the input already had one.</summary>
    public int Logits { get; }

    /// <summary>Locates the added columns, which <see cref="ExplanationLayout.OutputSchema"/> appends after the input's.</summary>
    public static OutputColumns Locate(DataViewSchema input, DataViewSchema output)
    {
        int n = input.Count;
        return new OutputColumns(n, n, n + 1, n + 2, output.Count > n + 3 ? n + 3 : -1);
    }

    /// <summary>True when <paramref name="index"/> is one of the added columns.</summary>
    public bool IsAdded(int index) => index >= InputCount;
}
