using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet.Chain;

/// <summary>
/// The z^B bounds an <c>ExtractPixels</c> step implies for the column it writes: pixels lie in [0, 255] and ML.NET
/// writes <c>(pixel − offsetImage)·scaleImage</c>, so the column lies between <c>(0 − offset)·scale</c> and
/// <c>(255 − offset)·scale</c> in every channel. Found by walking a data view back to the step that wrote the column.
/// </summary>
internal static class PixelBounds
{
    /// <summary>(low, high) of <paramref name="column"/> when an <c>ExtractPixels</c> step wrote it, else null.</summary>
    public static (float Low, float High)? Find(IDataView view, string column)
    {
        IDataView? current = view;
        // A chain of a few hundred steps at most; the bound only guards against a view that is its own source.
        for (int step = 0; current is not null && step < 10_000; step++)
        {
            if (current.Schema.GetColumnOrNull(column) is null)
            {
                return null;
            }

            (ITransformer? transformer, IDataView? source) = MlNetAccess.Step(current);
            if (source is null)
            {
                return null;
            }

            if (Writes(source.Schema, current.Schema, column))
            {
                return transformer is not null && MlNetAccess.ReadPixels(transformer)?.FirstOrDefault(c => c.Name == column) is { AsFloats: true } pixels
                    ? Range(pixels.Offset, pixels.Scale)
                    : null;
            }

            current = source;
        }

        return null;
    }

    /// <summary>
    /// True when the step from <paramref name="before"/> to <paramref name="after"/> writes <paramref name="column"/>: a
    /// step that writes a column adds one of that name (the old one stays, hidden), so there are more of that name after it.
    /// Indices cannot tell: ML.NET inserts a new column next to the one it hides, shifting the columns behind it.
    /// </summary>
    public static bool Writes(DataViewSchema before, DataViewSchema after, string column) =>
        after.Count(c => c.Name == column) > before.Count(c => c.Name == column);

    /// <summary>The image of [0, 255] under <c>(x − offset)·scale</c>, ordered.</summary>
    public static (float Low, float High) Range(float offset, float scale)
    {
        float a = (0 - offset) * scale, b = (255 - offset) * scale;
        return (Math.Min(a, b), Math.Max(a, b));
    }
}
