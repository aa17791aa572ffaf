using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;

namespace Clrp.Cli;

/// <summary>A validated <c>clrp explain</c> command line, in the library's types.</summary>
/// <param name="ModelPath">--model.</param>
/// <param name="InputPath">--input (.npy or a picture).</param>
/// <param name="Target">--target K, --top-k N, or the predicted class.</param>
/// <param name="TopK">True when --top-k was given (the .npy output then keeps its [N,k] axes).</param>
/// <param name="Method">--method.</param>
/// <param name="Rules">--rules as a composite, built with the bounds, ε and γ.</param>
/// <param name="Bounds">The z^B bounds handed to the composite; null = the input's own per-channel range.</param>
/// <param name="BoundsSource">Where <paramref name="Bounds"/> came from, for the summary.</param>
/// <param name="Mean">--mean (normalises pictures), or null.</param>
/// <param name="Std">--std, or null.</param>
/// <param name="DualSeed">--dual-seed.</param>
/// <param name="OutputName">--output, or null for the logits.</param>
/// <param name="Size">--size as (W, H), or null for the model's own size.</param>
/// <param name="OutPath">--out, or null.</param>
/// <param name="HeatmapPath">--heatmap, or null.</param>
/// <param name="Device">--device.</param>
internal sealed record ExplainRequest(
    string ModelPath,
    string InputPath,
    Target Target,
    bool TopK,
    ExplainMethod Method,
    Composite Rules,
    BoxBounds? Bounds,
    string BoundsSource,
    float[]? Mean,
    float[]? Std,
    DualSeed DualSeed,
    string? OutputName,
    (int Width, int Height)? Size,
    string? OutPath,
    string? HeatmapPath,
    Device Device)
{
    /// <summary>--max-pixels.</summary>
    public Clrp.Onnx.Imaging.ImageLoadOptions Images { get; init; } = Clrp.Onnx.Imaging.ImageLoadOptions.Default;

    /// <summary>--max-memory, or null.</summary>
    public long? MaxMemoryBytes { get; init; }

    /// <summary>--cache-dir resolved: where compiled graphs are kept, or null for none.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>--engine.</summary>
    public ExplainerEngine Engine { get; init; }
}
