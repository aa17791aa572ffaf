using MathNet.Numerics.Statistics;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// How alike two saliency maps are, as Adebayo et al. (2018) measure it: Spearman's rank correlation of the absolute maps
/// and of the signed maps, and the structural similarity (SSIM) of the absolute maps, each scaled to [0, 1] by its maximum.
/// </summary>
internal static class MapSimilarity
{
    /// <summary>Side of SSIM's square window (scikit-image's default).</summary>
    public const int Window = 7;

    /// <summary>Spearman's ρ of |a| and |b| (MathNet; ties take their mean rank); NaN when either is constant.</summary>
    public static double SpearmanAbs(float[] a, float[] b) => Correlation.Spearman(a.Select(v => (double)Math.Abs(v)), b.Select(v => (double)Math.Abs(v)));

    /// <summary>Spearman's ρ of the signed maps.</summary>
    public static double SpearmanSigned(float[] a, float[] b) => Correlation.Spearman(a.Select(v => (double)v), b.Select(v => (double)v));

    /// <summary>
    /// SSIM of |a|/max|a| and |b|/max|b| (an all-zero map stays 0), scikit-image's definition: the mean over every 7×7 window
    /// inside the image of <c>(2μ_aμ_b + C1)(2σ_ab + C2) / ((μ_a² + μ_b² + C1)(σ_a² + σ_b² + C2))</c>, sample (co)variances,
    /// C1 = 0.01², C2 = 0.03² (data range 1).
    /// </summary>
    public static double Ssim(float[] a, float[] b, int width)
    {
        int height = a.Length / width;
        double[] x = Scaled(a), y = Scaled(b);
        const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        const int n = Window * Window;
        double sum = 0;
        int count = 0;
        for (int top = 0; top + Window <= height; top++)
        {
            for (int left = 0; left + Window <= width; left++)
            {
                double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
                for (int r = top; r < top + Window; r++)
                {
                    for (int c = left; c < left + Window; c++)
                    {
                        double u = x[(r * width) + c], v = y[(r * width) + c];
                        sx += u;
                        sy += v;
                        sxx += u * u;
                        syy += v * v;
                        sxy += u * v;
                    }
                }

                double mx = sx / n, my = sy / n;
                double vx = (sxx - (n * mx * mx)) / (n - 1), vy = (syy - (n * my * my)) / (n - 1), cxy = (sxy - (n * mx * my)) / (n - 1);
                sum += ((2 * mx * my) + c1) * ((2 * cxy) + c2) / (((mx * mx) + (my * my) + c1) * (vx + vy + c2));
                count++;
            }
        }

        return sum / count;
    }

    private static double[] Scaled(float[] map)
    {
        double max = map.Max(v => Math.Abs((double)v));
        return [.. map.Select(v => max > 0 ? Math.Abs(v) / max : 0.0)];
    }
}
