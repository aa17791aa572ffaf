using Clrp.Onnx.Explaining;

namespace Clrp.Batch;

/// <summary>
/// The maps a heatmap draws, shared by <c>clrp explain --heatmap</c> and batch mode so that both draw the same picture:
/// an image's channel-summed map [H, W] as it is (channels-last models included: <see cref="Explanation.Heatmap"/> has
/// already summed the right axis), and a 1-D signal's channel-summed relevance [L] repeated over ⌈L/8⌉ rows, a strip that
/// the enlargement then brings to a readable height.
/// </summary>
public static class HeatmapMaps
{
    /// <summary>True when <paramref name="explanation"/> has a map to draw: an image-shaped or a 1-D input (not a volume).</summary>
    public static bool CanDraw(Explanation explanation) => explanation.Relevance.Rank is 4 or 5;

    /// <summary>The drawn maps' width and height and, per (image, explained class), the map itself, row-major.</summary>
    /// <exception cref="ArgumentException">The relevance is neither [N,k,C,H,W] nor [N,k,C,L] (see <see cref="CanDraw"/>).</exception>
    public static (int Width, int Height, Func<int, int, float[]> MapOf) Of(Explanation explanation)
    {
        if (explanation.Relevance.Rank == 5)
        {
            return (explanation.Heatmap.Shape[3], explanation.Heatmap.Shape[2], explanation.HeatmapOf);
        }

        if (explanation.Relevance.Rank != 4)
        {
            throw new ArgumentException($"a heatmap needs relevance [N,k,C,H,W] or [N,k,C,L]; it has shape {explanation.Relevance.ShapeText}.", nameof(explanation));
        }

        int channels = explanation.Relevance.Shape[2], length = explanation.Relevance.Shape[3], rows = Math.Max(1, (length + 7) / 8);
        return (length, rows, (img, i) =>
        {
            int start = ((img * explanation.TargetsPerImage) + i) * channels * length;
            var line = new float[length];
            for (int c = 0; c < channels; c++)
            {
                for (int t = 0; t < length; t++)
                {
                    line[t] += explanation.Relevance.Data[start + (c * length) + t];
                }
            }

            var strip = new float[length * rows];
            for (int r = 0; r < rows; r++)
            {
                line.CopyTo(strip, r * length);
            }

            return strip;
        });
    }
}
