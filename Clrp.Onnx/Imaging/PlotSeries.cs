using SkiaSharp;

namespace Clrp.Onnx.Imaging;

/// <summary>One line of a <see cref="LinePlot"/>: points (X[i], Y[i]) joined in order, named in the legend.</summary>
/// <param name="Name">The legend entry.</param>
/// <param name="X">The x values, as many as <paramref name="Y"/>.</param>
/// <param name="Y">The y values; a non-finite value breaks the line there.</param>
public sealed record PlotSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>The line colour; null (default) takes the next colour of matplotlib's "tab10" cycle.</summary>
    public SKColor? Color { get; init; }

    /// <summary>Draw the line dashed, e.g. for a baseline. Default: solid.</summary>
    public bool Dashed { get; init; }
}

/// <summary>Size and captions of a <see cref="LinePlot"/>; every default is usable as is.</summary>
public sealed class LinePlotOptions
{
    /// <summary>Picture width in pixels, legend included. Default 900.</summary>
    public int Width { get; init; } = 900;

    /// <summary>Picture height in pixels. Default 520.</summary>
    public int Height { get; init; } = 520;

    /// <summary>The title above the plot, or null.</summary>
    public string? Title { get; init; }

    /// <summary>The caption under the x axis, or null.</summary>
    public string? XLabel { get; init; }

    /// <summary>The caption left of the y axis (drawn upwards), or null.</summary>
    public string? YLabel { get; init; }

    /// <summary>Text height in pixels of tick labels and legend; captions are 1.15× larger. Default 14.</summary>
    public float FontSize { get; init; } = 14;
}
