namespace Clrp.Onnx.Imaging;

/// <summary>How <see cref="HeatmapRenderer.Render(ReadOnlySpan{float}, int, int, HeatmapOptions?)"/> draws a map; every default is usable as is.</summary>
public sealed class HeatmapOptions
{
    /// <summary>
    /// True: draw with <see cref="DivergingMap"/>, t = v / max|v| ∈ [−1, 1]. False: draw with <see cref="SequentialMap"/>,
    /// t = max(v, 0) / max|v| ∈ [0, 1] (negative values clipped). Null (default): true when any value is negative.
    /// Set it to true for every panel of a comparison so that all share the diverging map.
    /// </summary>
    public bool? Signed { get; init; }

    /// <summary>The map for signed values; default <see cref="ColorMap.Bwr"/>. Must be diverging.</summary>
    public ColorMap DivergingMap { get; init; } = ColorMap.Bwr;

    /// <summary>The map for non-negative values; default <see cref="ColorMap.WhiteRed"/>. Must be sequential.</summary>
    public ColorMap SequentialMap { get; init; } = ColorMap.WhiteRed;

    /// <summary>
    /// The value drawn at full colour, |v| = AbsMax ↦ |t| = 1; larger values saturate. Null (default): the map's own
    /// largest finite |v|. Give several maps the same value to compare their magnitudes on one scale.
    /// </summary>
    public float? AbsMax { get; init; }

    /// <summary>
    /// An image to draw under the heatmap: W×H RGBA bytes, row-major (e.g. <see cref="LoadedImage.Rgba"/>). It is shown in grey,
    /// so that the colours all belong to the heatmap: out = α·heat + (1 − α)·grey(image), α = <see cref="OverlayAlpha"/>.
    /// </summary>
    public byte[]? Overlay { get; init; }

    /// <summary>Weight α ∈ [0, 1] of the heatmap over <see cref="Overlay"/>; default 0.6.</summary>
    public float OverlayAlpha { get; init; } = 0.6f;

    /// <summary>
    /// Enlarge by the smallest integer factor k with k·min(W, H) ≥ MinSide, repeating pixels (nearest neighbour) so that
    /// each input pixel stays a sharp square: 28×28 with MinSide 224 becomes 224×224. 0 (default): no enlargement.
    /// </summary>
    public int MinSide { get; init; }
}
