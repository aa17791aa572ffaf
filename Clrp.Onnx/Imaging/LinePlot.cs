using System.Globalization;
using SkiaSharp;

namespace Clrp.Onnx.Imaging;

/// <summary>
/// Draws line charts with SkiaSharp: axes with "nice" ticks (1, 2 or 5 × 10^k) and light grid lines, tick
/// labels, axis captions, a title, and a legend to the right of the plot area so that it never hides a line.
/// Used for perturbation (ablation) curves; nothing in it knows about relevance. The bitmap belongs to the
/// caller; write it with <see cref="HeatmapRenderer.SavePng"/>.
/// </summary>
public static class LinePlot
{
    /// <summary>matplotlib's default "tab10" colour cycle, so that plots look familiar next to Python ones.</summary>
    private static readonly SKColor[] Tab10 =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    private const int Pad = 10, TickLength = 5, LegendSample = 28;

    /// <summary>Renders <paramref name="series"/> into one chart whose axes span every finite point.</summary>
    /// <exception cref="ArgumentException">No series, a series whose X and Y differ in length, no finite point, or a size too small to draw in.</exception>
    public static SKBitmap Render(IReadOnlyList<PlotSeries> series, LinePlotOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        options ??= new LinePlotOptions();
        (double xMin, double xMax, double yMin, double yMax) = DataRange(series);
        double[] xTicks = NiceTicks(xMin, xMax), yTicks = NiceTicks(yMin, yMax);

        using var font = new SKFont(SKTypeface.Default, options.FontSize);
        using var captionFont = new SKFont(SKTypeface.Default, options.FontSize * 1.15f);
        float lineHeight = font.Metrics.Descent - font.Metrics.Ascent;
        float captionHeight = captionFont.Metrics.Descent - captionFont.Metrics.Ascent;
        string[] yLabels = Labels(yTicks), xLabels = Labels(xTicks);

        float legendWidth = series.Max(s => HeatmapRenderer.TextWidth(font, s.Name)) + LegendSample + (3 * Pad);
        float left = Pad + (options.YLabel is null ? 0 : captionHeight + Pad) + yLabels.Max(l => HeatmapRenderer.TextWidth(font, l)) + TickLength + 4;
        float top = Pad + (options.Title is null ? 0 : captionHeight + Pad);
        float right = options.Width - legendWidth - Pad;
        float bottom = options.Height - Pad - (options.XLabel is null ? 0 : captionHeight + Pad) - lineHeight - TickLength - 4;
        if (right - left < 50 || bottom - top < 50)
        {
            throw new ArgumentException($"A {options.Width}×{options.Height} picture leaves no room for the plot area; make it larger.", nameof(options));
        }

        var plot = new SKRect(left, top, right, bottom);
        var map = new Mapping(plot, xTicks[0], xTicks[^1], yTicks[0], yTicks[^1]);
        var bitmap = new SKBitmap(new SKImageInfo(options.Width, options.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };

        DrawAxes(canvas, map, xTicks, yTicks, xLabels, yLabels, font, ink);
        DrawCaptions(canvas, options, plot, font, captionFont, ink);
        SKColor[] colors = AssignColors(series);
        canvas.Save();
        canvas.ClipRect(plot);
        for (int i = 0; i < series.Count; i++)
        {
            DrawSeries(canvas, map, series[i], colors[i]);
        }

        canvas.Restore();
        DrawLegend(canvas, series, colors, plot, font, ink);
        return bitmap;
    }

    /// <summary>
    /// Evenly spaced ticks covering [<paramref name="min"/>, <paramref name="max"/>] at a step of 1, 2 or 5 × 10^k,
    /// at most about <paramref name="maxTicks"/> of them; the first tick is ≤ min and the last ≥ max.
    /// </summary>
    public static double[] NiceTicks(double min, double max, int maxTicks = 8)
    {
        if (!(double.IsFinite(min) && double.IsFinite(max)) || maxTicks < 2)
        {
            throw new ArgumentException($"Ticks need a finite range and maxTicks ≥ 2; got [{min}, {max}] and {maxTicks}.");
        }

        if (max <= min)
        {
            // A flat range still needs an axis: widen it around the value.
            double half = min == 0 ? 1 : Math.Abs(min) * 0.5;
            (min, max) = (min - half, max + half);
        }

        double rough = (max - min) / (maxTicks - 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double step = new[] { 1d, 2d, 5d, 10d }.Select(f => f * magnitude).First(s => s >= rough * (1 - 1e-9));
        double first = Math.Floor((min / step) + 1e-9) * step;
        double last = Math.Ceiling((max / step) - 1e-9) * step;
        int count = (int)Math.Round((last - first) / step) + 1;
        // Multiplying instead of accumulating keeps 0.1 + 0.2 style drift out of the labels.
        return [.. Enumerable.Range(0, count).Select(i => Math.Round(first + (i * step), 12))];
    }

    private static (double XMin, double XMax, double YMin, double YMax) DataRange(IReadOnlyList<PlotSeries> series)
    {
        if (series.Count == 0)
        {
            throw new ArgumentException("A plot needs at least one series.", nameof(series));
        }

        var xs = new List<double>();
        var ys = new List<double>();
        foreach (PlotSeries s in series)
        {
            if (s.X.Count != s.Y.Count)
            {
                throw new ArgumentException($"Series '{s.Name}' has {s.X.Count} x values but {s.Y.Count} y values.", nameof(series));
            }

            for (int i = 0; i < s.X.Count; i++)
            {
                if (double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i]))
                {
                    xs.Add(s.X[i]);
                    ys.Add(s.Y[i]);
                }
            }
        }

        return xs.Count == 0
            ? throw new ArgumentException("No series holds a finite point.", nameof(series))
            : (xs.Min(), xs.Max(), ys.Min(), ys.Max());
    }

    /// <summary>Tick labels with as many decimals as the step needs, in the invariant culture.</summary>
    private static string[] Labels(double[] ticks)
    {
        double step = ticks.Length > 1 ? ticks[1] - ticks[0] : 1;
        int decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 10);
        return [.. ticks.Select(t => t.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture))];
    }

    private static SKColor[] AssignColors(IReadOnlyList<PlotSeries> series)
    {
        int next = 0;
        return [.. series.Select(s => s.Color ?? Tab10[next++ % Tab10.Length])];
    }

    private static void DrawAxes(SKCanvas canvas, Mapping map, double[] xTicks, double[] yTicks, string[] xLabels, string[] yLabels, SKFont font, SKPaint ink)
    {
        using var grid = new SKPaint { Color = new SKColor(0xe0, 0xe0, 0xe0), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, Style = SKPaintStyle.Stroke, IsAntialias = false };
        SKRect plot = map.Plot;
        float ascent = -font.Metrics.Ascent;
        for (int i = 0; i < xTicks.Length; i++)
        {
            float x = map.X(xTicks[i]);
            canvas.DrawLine(x, plot.Top, x, plot.Bottom, grid);
            canvas.DrawLine(x, plot.Bottom, x, plot.Bottom + TickLength, axis);
            float w = HeatmapRenderer.TextWidth(font, xLabels[i]);
            canvas.DrawText(xLabels[i], x - (w / 2), plot.Bottom + TickLength + 2 + ascent, font, ink);
        }

        for (int i = 0; i < yTicks.Length; i++)
        {
            float y = map.Y(yTicks[i]);
            canvas.DrawLine(plot.Left, y, plot.Right, y, grid);
            canvas.DrawLine(plot.Left - TickLength, y, plot.Left, y, axis);
            float w = HeatmapRenderer.TextWidth(font, yLabels[i]);
            // Baseline so that the label's box (ascent to descent) is centred on the tick.
            canvas.DrawText(yLabels[i], plot.Left - TickLength - 4 - w, y - ((font.Metrics.Ascent + font.Metrics.Descent) / 2), font, ink);
        }

        canvas.DrawRect(plot, axis);
    }

    private static void DrawCaptions(SKCanvas canvas, LinePlotOptions options, SKRect plot, SKFont font, SKFont captionFont, SKPaint ink)
    {
        float ascent = -captionFont.Metrics.Ascent;
        if (options.Title is { } title)
        {
            float w = HeatmapRenderer.TextWidth(captionFont, title);
            canvas.DrawText(title, plot.MidX - (w / 2), Pad + ascent, captionFont, ink);
        }

        if (options.XLabel is { } xLabel)
        {
            float w = HeatmapRenderer.TextWidth(captionFont, xLabel);
            float y = plot.Bottom + TickLength + 4 + (font.Metrics.Descent - font.Metrics.Ascent) + Pad + ascent;
            canvas.DrawText(xLabel, plot.MidX - (w / 2), y, captionFont, ink);
        }

        if (options.YLabel is { } yLabel)
        {
            float w = HeatmapRenderer.TextWidth(captionFont, yLabel);
            canvas.Save();
            canvas.Translate(Pad + ascent, plot.MidY + (w / 2));
            canvas.RotateDegrees(-90);
            canvas.DrawText(yLabel, 0, 0, captionFont, ink);
            canvas.Restore();
        }
    }

    private static void DrawSeries(SKCanvas canvas, Mapping map, PlotSeries s, SKColor color)
    {
        using var line = new SKPaint { Color = color, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var dot = new SKPaint { Color = color, Style = SKPaintStyle.Fill, IsAntialias = true };
        using SKPathEffect? dash = s.Dashed ? SKPathEffect.CreateDash([8, 5], 0) : null;
        line.PathEffect = dash;
        using var path = new SKPath();
        bool open = false;
        for (int i = 0; i < s.X.Count; i++)
        {
            if (!(double.IsFinite(s.X[i]) && double.IsFinite(s.Y[i])))
            {
                open = false;
                continue;
            }

            var p = new SKPoint(map.X(s.X[i]), map.Y(s.Y[i]));
            if (open)
            {
                path.LineTo(p);
            }
            else
            {
                path.MoveTo(p);
                open = true;
            }

            canvas.DrawCircle(p, 2.5f, dot);
        }

        canvas.DrawPath(path, line);
    }

    private static void DrawLegend(SKCanvas canvas, IReadOnlyList<PlotSeries> series, SKColor[] colors, SKRect plot, SKFont font, SKPaint ink)
    {
        float lineHeight = font.Metrics.Descent - font.Metrics.Ascent;
        float x = plot.Right + (2 * Pad);
        for (int i = 0; i < series.Count; i++)
        {
            float mid = plot.Top + (i * (lineHeight + 6)) + (lineHeight / 2);
            using var line = new SKPaint { Color = colors[i], StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
            using SKPathEffect? dash = series[i].Dashed ? SKPathEffect.CreateDash([8, 5], 0) : null;
            line.PathEffect = dash;
            canvas.DrawLine(x, mid, x + LegendSample - 4, mid, line);
            canvas.DrawText(series[i].Name, x + LegendSample, mid - ((font.Metrics.Ascent + font.Metrics.Descent) / 2), font, ink);
        }
    }

    /// <summary>Data coordinates → pixels; y grows upwards on the plot and downwards on the canvas.</summary>
    private sealed record Mapping(SKRect Plot, double XMin, double XMax, double YMin, double YMax)
    {
        public float X(double x) => Plot.Left + (float)((x - XMin) / (XMax - XMin) * Plot.Width);

        public float Y(double y) => Plot.Bottom - (float)((y - YMin) / (YMax - YMin) * Plot.Height);
    }
}
