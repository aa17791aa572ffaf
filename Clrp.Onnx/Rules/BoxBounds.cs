using System.Globalization;

namespace Clrp.Onnx.Rules;

/// <summary>
/// Lowest and highest input values of the first linear layer, one value for all channels or one per
/// channel, as the z^B rule needs them. <see cref="FromMeanStd"/> derives them from the preprocessing
/// <c>x = (pixel − mean) / std</c> with pixels in [0, 1]: <c>l = (0 − mean)/std</c>, <c>h = (1 − mean)/std</c>.
/// </summary>
public sealed class BoxBounds
{
    public BoxBounds(float[] low, float[] high)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (low.Length == 0 || low.Length != high.Length)
        {
            throw new InvalidOptionsException($"box bounds need as many low as high values (one, or one per channel); got {low.Length} low and {high.Length} high.");
        }

        for (int c = 0; c < low.Length; c++)
        {
            if (!float.IsFinite(low[c]) || !float.IsFinite(high[c]) || low[c] > high[c])
            {
                throw new InvalidOptionsException($"box bound {c}: low {low[c]} must be finite and ≤ high {high[c]}.");
            }
        }

        Low = low;
        High = high;
    }

    /// <summary>l per channel (or a single value for all).</summary>
    public float[] Low { get; }

    /// <summary>h per channel (or a single value for all).</summary>
    public float[] High { get; }

    /// <summary>Bounds of inputs normalised as <c>(pixel − mean)/std</c> from pixels in [0, 1].</summary>
    public static BoxBounds FromMeanStd(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
        {
            throw new InvalidOptionsException($"--mean and --std need the same number of values (one, or one per channel); got {mean.Length} and {std.Length}.");
        }

        if (std.Any(s => !(s > 0)))
        {
            throw new InvalidOptionsException($"--std values must be > 0, got {string.Join(',', std.Select(s => s.ToString(CultureInfo.InvariantCulture)))}.");
        }

        return new BoxBounds(
            mean.Select((m, c) => (0f - m) / std[c]).ToArray(),
            mean.Select((m, c) => (1f - m) / std[c]).ToArray());
    }

    /// <summary>
    /// The range of image <paramref name="image"/> of a batch (used when the caller gives no bounds): per channel
    /// (axis 1) for inputs [N, C, …]; one value over all features for flat inputs [N, F], where a per-"channel"
    /// range would collapse to the value itself and zero every z^B term. Each image gets its own bounds, so its map
    /// does not depend on the rest of the batch.
    /// </summary>
    public static BoxBounds FromData(Tensors.Tensor input, int image)
    {
        ArgumentNullException.ThrowIfNull(input);
        int channels = input.Rank >= 3 ? input.Shape[1] : 1;
        int inner = input.RowLength / channels;
        ReadOnlySpan<float> row = input.Row(image);
        var low = new float[channels];
        var high = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            ReadOnlySpan<float> plane = row.Slice(c * inner, inner);
            low[c] = System.Numerics.Tensors.TensorPrimitives.Min(plane);
            high[c] = System.Numerics.Tensors.TensorPrimitives.Max(plane);
        }

        return new BoxBounds(low, high);
    }

    /// <summary>l for channel <paramref name="channel"/>.</summary>
    public float LowFor(int channel) => Low.Length == 1 ? Low[0] : Low[channel];

    /// <summary>h for channel <paramref name="channel"/>.</summary>
    public float HighFor(int channel) => High.Length == 1 ? High[0] : High[channel];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"low [{string.Join(',', Low)}], high [{string.Join(',', High)}]");
}
