using System.Globalization;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// A sample mean with its 95 % confidence interval, mean ± t(0.975, n−1)·s/√n (Student's t, MathNet.Numerics).
/// Scores are averaged per scene first, so that n counts independent scenes, not the two correlated classes of one.
/// </summary>
/// <param name="Mean">The sample mean.</param>
/// <param name="Low">Lower end of the interval (NaN for fewer than two values).</param>
/// <param name="High">Upper end of the interval (NaN for fewer than two values).</param>
/// <param name="Count">n.</param>
internal readonly record struct MeanInterval(double Mean, double Low, double High, int Count)
{
    /// <summary>The mean and the t interval of <paramref name="values"/>.</summary>
    public static MeanInterval Of(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return new MeanInterval(double.NaN, double.NaN, double.NaN, 0);
        }

        (double mean, double sd) = values.MeanStandardDeviation();
        if (values.Count < 2)
        {
            return new MeanInterval(mean, double.NaN, double.NaN, values.Count);
        }

        double half = StudentT.InvCDF(0, 1, values.Count - 1, 0.975) * sd / Math.Sqrt(values.Count);
        return new MeanInterval(mean, mean - half, mean + half, values.Count);
    }

    /// <summary>"0.812 [0.790, 0.834]" with <paramref name="decimals"/> decimals; "n/a" for the interval of one value.</summary>
    public string Format(int decimals = 3)
    {
        string f = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        string mean = Mean.ToString(f, CultureInfo.InvariantCulture);
        return double.IsNaN(Low) ? $"{mean} [n/a]" : $"{mean} [{Low.ToString(f, CultureInfo.InvariantCulture)}, {High.ToString(f, CultureInfo.InvariantCulture)}]";
    }
}
