namespace Clrp.Onnx.Imaging;

/// <summary>
/// A colour map from a normalised value to an RGB colour, defined like matplotlib's
/// <c>LinearSegmentedColormap</c>: each channel is piecewise linear between anchor points (x, value) on x ∈ [0, 1].
/// A diverging map takes t ∈ [−1, 1] and looks up x = (t + 1) / 2, so t = 0 is its centre;
/// a sequential map takes t ∈ [0, 1] and looks up x = t.
/// </summary>
/// <remarks>
/// Colours are evaluated exactly and rounded to the nearest byte, whereas matplotlib reads a 256-entry table
/// and truncates; the two differ by at most 3 levels (matplotlib's bwr gives (255, 254, 254) at 0, this gives white).
/// </remarks>
public sealed class ColorMap
{
    private readonly Anchor[][] _channels;

    private ColorMap(string name, bool isDiverging, Anchor[] red, Anchor[] green, Anchor[] blue)
    {
        Name = name;
        IsDiverging = isDiverging;
        _channels = [red, green, blue];
    }

    /// <summary>
    /// matplotlib <c>bwr</c>, diverging: blue (0, 0, 1) at t = −1, white at t = 0, red (1, 0, 0) at t = +1.
    /// For t ≤ 0: (R, G, B) = (1 + t, 1 + t, 1); for t ≥ 0: (1, 1 − t, 1 − t). The usual map for signed relevance.
    /// </summary>
    public static ColorMap Bwr { get; } = FromColors("bwr", isDiverging: true, (0, 0, 1), (1, 1, 1), (1, 0, 0));

    /// <summary>
    /// matplotlib <c>seismic</c>, diverging: dark blue (0, 0, 0.3) at t = −1, blue (0, 0, 1) at −0.5, white at 0,
    /// red (1, 0, 0) at +0.5, dark red (0.5, 0, 0) at +1, linear in between. Saturates earlier than <see cref="Bwr"/>.
    /// </summary>
    public static ColorMap Seismic { get; } = FromColors("seismic", isDiverging: true, (0, 0, 0.3f), (0, 0, 1), (1, 1, 1), (1, 0, 0), (0.5f, 0, 0));

    /// <summary>
    /// Sequential white to red, the upper half of <see cref="Bwr"/>: (R, G, B) = (1, 1 − t, 1 − t) for t ∈ [0, 1].
    /// The default for non-negative maps, so that 0 is white in signed and unsigned panels alike.
    /// </summary>
    public static ColorMap WhiteRed { get; } = FromColors("white-red", isDiverging: false, (1, 1, 1), (1, 0, 0));

    /// <summary>
    /// matplotlib <c>hot</c>, sequential black–red–yellow–white: R rises from 0.0416 to 1 on t ∈ [0, 0.365079],
    /// G from 0 to 1 on [0.365079, 0.746032], B from 0 to 1 on [0.746032, 1].
    /// </summary>
    public static ColorMap Hot { get; } = new(
        "hot",
        isDiverging: false,
        red: [new(0, 0.0416f), new(0.365079f, 1), new(1, 1)],
        green: [new(0, 0), new(0.365079f, 0), new(0.746032f, 1), new(1, 1)],
        blue: [new(0, 0), new(0.746032f, 0), new(1, 1)]);

    /// <summary>The matplotlib name of the map (or <c>white-red</c>).</summary>
    public string Name { get; }

    /// <summary>True when the map takes t ∈ [−1, 1] centred on 0; false when it takes t ∈ [0, 1].</summary>
    public bool IsDiverging { get; }

    /// <summary>
    /// The colour of <paramref name="t"/>: t ∈ [−1, 1] for a diverging map, t ∈ [0, 1] for a sequential one.
    /// Values outside the range are clamped to its ends; NaN maps like 0 (white for bwr, seismic and white-red),
    /// so a broken value never crashes a picture.
    /// </summary>
    public (byte R, byte G, byte B) Map(float t)
    {
        float x = float.IsNaN(t) ? (IsDiverging ? 0.5f : 0f) : (IsDiverging ? (t + 1f) * 0.5f : t);
        x = Math.Clamp(x, 0f, 1f);
        return (ToByte(Interpolate(_channels[0], x)), ToByte(Interpolate(_channels[1], x)), ToByte(Interpolate(_channels[2], x)));
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Colours at evenly spaced anchors, as matplotlib's <c>LinearSegmentedColormap.from_list</c>.</summary>
    private static ColorMap FromColors(string name, bool isDiverging, params (float R, float G, float B)[] colors)
    {
        Anchor[] Channel(Func<(float R, float G, float B), float> pick) =>
            [.. colors.Select((c, i) => new Anchor(i / (float)(colors.Length - 1), pick(c)))];

        return new ColorMap(name, isDiverging, Channel(c => c.R), Channel(c => c.G), Channel(c => c.B));
    }

    private static float Interpolate(Anchor[] anchors, float x)
    {
        for (int i = 1; i < anchors.Length; i++)
        {
            if (x <= anchors[i].X)
            {
                Anchor a = anchors[i - 1];
                Anchor b = anchors[i];
                float w = (x - a.X) / (b.X - a.X);
                return a.Value + (w * (b.Value - a.Value));
            }
        }

        return anchors[^1].Value;
    }

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v * 255f), 0f, 255f);

    /// <summary>One anchor: the channel has <paramref name="Value"/> at position <paramref name="X"/>.</summary>
    private readonly record struct Anchor(float X, float Value);
}
