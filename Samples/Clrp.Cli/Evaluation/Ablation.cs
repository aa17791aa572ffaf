using MathNet.Numerics.Random;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// The pixel-ablation ("region perturbation") study of Samek et al., "Evaluating the visualization of what a
/// deep neural network has learned" (IEEE TNNLS 2017), as Gu et al. use it: remove the most relevant pixels
/// first, a fixed fraction per step, and record how far the explained class's logit falls. The area over the
/// perturbation curve, AOPC = 1/(L+1) Σ_{k=0..L} (z(x⁰) − z(xᵏ)), is larger for maps that find the pixels the
/// decision rests on; a random order is the baseline every map should beat.
/// </summary>
internal static class Ablation
{
    /// <summary>
    /// How many pixels are removed after each step k = 0..<paramref name="steps"/>: round(k·fraction·pixels),
    /// e.g. 0, 41, 82, … for 1 % of 4,096.
    /// </summary>
    public static int[] RemovalCounts(int pixels, int steps, double stepFraction = 0.01) =>
        [.. Enumerable.Range(0, steps + 1).Select(k => (int)Math.Min(pixels, Math.Round(k * stepFraction * pixels, MidpointRounding.AwayFromZero)))];

    /// <summary>
    /// Seeded random keys, one per pixel, for the (scene, object) pair: the random-order baseline sorts by them,
    /// and maps use them to break ties (a CLRP map is 0 on many pixels; ordering those by position would favour
    /// the top-left corner). MathNet's Mersenne Twister gives the same keys on every platform and .NET version.
    /// </summary>
    public static double[] RandomKeys(int pixels, int seed, int scene, int objectIndex)
    {
        var random = new MersenneTwister(unchecked((seed * 1_000_003) + (scene * 2) + objectIndex));
        var keys = new double[pixels];
        random.NextDoubles(keys);
        return keys;
    }

    /// <summary>Pixel indices, most relevant first; equal values in the order of <paramref name="tieKeys"/>.</summary>
    public static int[] RelevanceOrder(ReadOnlySpan<float> map, double[] tieKeys)
    {
        float[] values = map.ToArray();
        int[] order = [.. Enumerable.Range(0, values.Length)];
        // NaN sorts last, as the least relevant value.
        Array.Sort(order, (i, j) =>
        {
            float a = float.IsNaN(values[i]) ? float.NegativeInfinity : values[i];
            float b = float.IsNaN(values[j]) ? float.NegativeInfinity : values[j];
            int byValue = b.CompareTo(a);
            return byValue != 0 ? byValue : tieKeys[i].CompareTo(tieKeys[j]);
        });
        return order;
    }

    /// <summary>The random-order baseline: pixel indices sorted by <paramref name="keys"/>.</summary>
    public static int[] RandomOrder(double[] keys)
    {
        int[] order = [.. Enumerable.Range(0, keys.Length)];
        Array.Sort(order, (i, j) => keys[i].CompareTo(keys[j]));
        return order;
    }

    /// <summary>
    /// Sets pixels <c>order[0..count)</c> of one image [C, plane] to <paramref name="fill"/>[c] in every channel c
    /// (the dataset mean, i.e. 0 after normalisation with that mean).
    /// </summary>
    public static void Remove(Span<float> image, int plane, ReadOnlySpan<int> order, int count, ReadOnlySpan<float> fill)
    {
        int channels = image.Length / plane;
        foreach (int pixel in order[..count])
        {
            for (int c = 0; c < channels; c++)
            {
                image[(c * plane) + pixel] = fill[Math.Min(c, fill.Length - 1)];
            }
        }
    }

    /// <summary>
    /// AOPC of one curve: the mean of <paramref name="drops"/>, which holds z(x⁰) − z(xᵏ) for k = 0..L
    /// (the first entry is the unperturbed step, 0).
    /// </summary>
    public static double Aopc(IReadOnlyList<double> drops) =>
        drops.Count == 0 ? throw new ArgumentException("A perturbation curve needs at least one step.", nameof(drops)) : drops.Average();
}
