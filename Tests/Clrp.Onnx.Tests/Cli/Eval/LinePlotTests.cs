using Clrp.Onnx.Imaging;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>The ablation plot: nice ticks, the picture's size, the lines' colours, and bad input.</summary>
[TestClass]
public sealed class LinePlotTests
{
    [TestMethod]
    public void NiceTicks_StepOf1_2Or5TimesAPowerOfTen_CoveringTheRange()
    {
        CollectionAssert.AreEqual(new[] { 0d, 5, 10, 15, 20 }, LinePlot.NiceTicks(0, 20));
        CollectionAssert.AreEqual(new[] { -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3 }, LinePlot.NiceTicks(-0.43, 2.99));
        double[] flat = LinePlot.NiceTicks(1, 1);
        Assert.IsTrue(flat[0] < 1 && flat[^1] > 1, "a flat range is widened");
    }

    [TestMethod]
    public void Render_TwoSeries_DrawsBothColoursAtTheRequestedSize()
    {
        var red = new SKColor(255, 0, 0);
        var blue = new SKColor(0, 0, 255);
        PlotSeries[] series =
        [
            new("up", [0, 1, 2], [0, 1, 2]) { Color = red },
            new("flat", [0, 1, 2], [0.5, 0.5, 0.5]) { Color = blue, Dashed = true },
        ];

        using SKBitmap bitmap = LinePlot.Render(series, new LinePlotOptions { Width = 600, Height = 400, Title = "t", XLabel = "x", YLabel = "y" });

        Assert.AreEqual(600, bitmap.Width);
        Assert.AreEqual(400, bitmap.Height);
        var colours = new HashSet<SKColor>(bitmap.Pixels);
        Assert.Contains(red, colours);
        Assert.Contains(blue, colours);
    }

    [TestMethod]
    public void Render_MismatchedSeries_Throws()
    {
        Assert.ThrowsExactly<ArgumentException>(() => LinePlot.Render([new PlotSeries("bad", [0, 1], [0])]));
        Assert.ThrowsExactly<ArgumentException>(() => LinePlot.Render([]));
    }
}
