using SkiaSharp;

namespace Clrp.Onnx.Imaging;

/// <summary>Lays rendered panels out as a captioned grid, e.g. image | LRP | CLRP1 | CLRP2 per class.</summary>
public static partial class HeatmapRenderer
{
    /// <summary>
    /// Draws <paramref name="rows"/> of panels on a white background: a title above each column, a label at the left
    /// of each row, <paramref name="padding"/> pixels between everything. A column is as wide as its widest panel or
    /// title, a row as tall as its tallest panel; panels are centred in their cells and drawn at their own size.
    /// A null panel, or a row shorter than the others, leaves its cells blank. Text uses the default typeface, in black.
    /// </summary>
    /// <param name="rows">Panels, row by row; the caller keeps ownership of them.</param>
    /// <param name="columnTitles">One title per column, or null for none.</param>
    /// <param name="rowLabels">One label per row, or null for none.</param>
    /// <param name="fontSize">Text height in pixels.</param>
    /// <param name="padding">Gap in pixels around and between cells.</param>
    /// <exception cref="ArgumentException">The titles or labels do not match the number of columns or rows, or the grid is empty.</exception>
    public static SKBitmap RenderGrid(
        IReadOnlyList<IReadOnlyList<SKBitmap?>> rows,
        IReadOnlyList<string>? columnTitles = null,
        IReadOnlyList<string>? rowLabels = null,
        float fontSize = 16,
        int padding = 8)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int columns = Math.Max(rows.Count == 0 ? 0 : rows.Max(r => r.Count), columnTitles?.Count ?? 0);
        CheckGrid(rows.Count, columns, columnTitles, rowLabels, fontSize, padding);

        using var font = new SKFont(SKTypeface.Default, fontSize);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        SKFontMetrics metrics = font.Metrics;
        // Ascent is negative in Skia (above the baseline), descent positive.
        int textHeight = (int)MathF.Ceiling(metrics.Descent - metrics.Ascent);

        var columnWidths = new int[columns];
        for (int j = 0; j < columns; j++)
        {
            int titleWidth = columnTitles is null ? 0 : (int)MathF.Ceiling(TextWidth(font, columnTitles[j]));
            columnWidths[j] = Math.Max(titleWidth, rows.Max(r => j < r.Count && r[j] is { } panel ? panel.Width : 0));
        }

        int[] rowHeights = [.. rows.Select(r => Math.Max(r.Count == 0 ? 0 : r.Max(p => p?.Height ?? 0), rowLabels is null ? 0 : textHeight))];
        int labelWidth = rowLabels is null ? 0 : (int)MathF.Ceiling(rowLabels.Max(l => TextWidth(font, l))) + padding;
        int titleHeight = columnTitles is null ? 0 : textHeight + padding;

        int width = padding + labelWidth + columnWidths.Sum() + (columns * padding);
        int height = padding + titleHeight + rowHeights.Sum() + (rows.Count * padding);
        var grid = new SKBitmap(new SKImageInfo(Math.Max(width, 1), Math.Max(height, 1), SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(grid);
        canvas.Clear(SKColors.White);

        int left = padding + labelWidth;
        if (columnTitles is not null)
        {
            for (int j = 0, x = left; j < columns; x += columnWidths[j] + padding, j++)
            {
                float titleWidth = TextWidth(font, columnTitles[j]);
                canvas.DrawText(columnTitles[j], x + ((columnWidths[j] - titleWidth) / 2), padding - metrics.Ascent, font, ink);
            }
        }

        for (int i = 0, y = padding + titleHeight; i < rows.Count; y += rowHeights[i] + padding, i++)
        {
            if (rowLabels is not null)
            {
                // Baseline placed so that the text box (ascent to descent) is centred on the row.
                float baseline = y + (rowHeights[i] / 2f) - ((metrics.Ascent + metrics.Descent) / 2f);
                canvas.DrawText(rowLabels[i], padding, baseline, font, ink);
            }

            for (int j = 0, x = left; j < rows[i].Count; x += columnWidths[j] + padding, j++)
            {
                if (rows[i][j] is { } panel)
                {
                    canvas.DrawBitmap(panel, x + ((columnWidths[j] - panel.Width) / 2), y + ((rowHeights[i] - panel.Height) / 2));
                }
            }
        }

        return grid;
    }

    /// <summary>Advance width of <paramref name="text"/>; SkiaSharp 2.88's SKFont measures glyphs, not strings.</summary>
    internal static float TextWidth(SKFont font, string text)
    {
        var glyphs = new ushort[font.CountGlyphs(text)];
        font.GetGlyphs(text, glyphs);
        return font.MeasureText(glyphs);
    }

    private static void CheckGrid(int rowCount, int columns, IReadOnlyList<string>? columnTitles, IReadOnlyList<string>? rowLabels, float fontSize, int padding)
    {
        if (rowCount == 0 || columns == 0)
        {
            throw new ArgumentException("A grid needs at least one row and one column.");
        }

        if (columnTitles is not null && columnTitles.Count != columns)
        {
            throw new ArgumentException($"The grid has {columns} columns but {columnTitles.Count} titles.", nameof(columnTitles));
        }

        if (rowLabels is not null && rowLabels.Count != rowCount)
        {
            throw new ArgumentException($"The grid has {rowCount} rows but {rowLabels.Count} labels.", nameof(rowLabels));
        }

        if (!(fontSize > 0 && float.IsFinite(fontSize)) || padding < 0)
        {
            throw new ArgumentException($"fontSize must be > 0 and padding ≥ 0; got {fontSize} and {padding}.");
        }
    }
}
