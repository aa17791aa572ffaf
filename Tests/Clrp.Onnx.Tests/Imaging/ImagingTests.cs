using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tensors;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Imaging;

/// <summary>
/// Image loading, colour maps and heatmap pictures, on images drawn pixel by pixel in the test so that every
/// expected value follows from the known bytes; colour-map references come from matplotlib 3.6.3.
/// </summary>
[TestClass]
public sealed class ImagingTests
{
    private const float ByteStep = 1f / 255f;

    private static readonly SKColor[] Pixels2x2 =
    [
        new(255, 0, 0), new(0, 255, 0),
        new(10, 100, 200), new(255, 255, 255),
    ];

    private string _folder = "";

    [TestInitialize]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "imaging-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    // ---- ImageLoader ----

    [TestMethod]
    public void Load_RgbPngAtItsOwnSize_KeepsExactPixelValuesInChw()
    {
        string path = SavePng("rgb.png", 2, 2, Pixels2x2);

        LoadedImage image = ImageLoader.Load(path, 2, 2, channels: 3);

        CollectionAssert.AreEqual(new[] { 1, 3, 2, 2 }, image.Tensor.Shape);
        float[] expected = [.. Enumerable.Range(0, 3).SelectMany(c => Pixels2x2.Select(p => Channel(p, c) / 255f))];
        CollectionAssert.AreEqual(expected, image.Tensor.Data);
        byte[] rgba = [.. Pixels2x2.SelectMany(p => new[] { p.Red, p.Green, p.Blue, (byte)255 })];
        CollectionAssert.AreEqual(rgba, image.Rgba);
    }

    [TestMethod]
    public void Load_OneChannel_UsesLumaWeightsOnUnitScale()
    {
        string path = SavePng("grey.png", 2, 2, Pixels2x2);

        LoadedImage image = ImageLoader.Load(path, 2, 2, channels: 1);

        CollectionAssert.AreEqual(new[] { 1, 1, 2, 2 }, image.Tensor.Shape);
        for (int i = 0; i < 4; i++)
        {
            SKColor p = Pixels2x2[i];
            float expected = p.Red == p.Green && p.Green == p.Blue
                ? p.Red / 255f
                : (0.2989f * p.Red / 255f) + (0.5870f * p.Green / 255f) + (0.1140f * p.Blue / 255f);
            Assert.AreEqual(expected, image.Tensor.Data[i], 1e-6f);
        }

        Assert.AreEqual(1f, image.Tensor.Data[3], 1e-6f, "white stays exactly 1 (grey pixels keep their value)");
    }

    [TestMethod]
    public void Load_MeanAndStdPerChannel_NormalisesEachChannel()
    {
        string path = SavePng("norm.png", 2, 2, Pixels2x2);
        float[] mean = [0.485f, 0.456f, 0.406f];
        float[] std = [0.229f, 0.224f, 0.225f];

        LoadedImage image = ImageLoader.Load(path, 2, 2, 3, mean, std);

        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < 4; i++)
            {
                float expected = ((Channel(Pixels2x2[i], c) / 255f) - mean[c]) / std[c];
                Assert.AreEqual(expected, image.Tensor.Data[(c * 4) + i], 1e-5f);
            }
        }
    }

    [TestMethod]
    public void Load_SingleMeanAndStd_AppliesToEveryChannel()
    {
        string path = SavePng("norm1.png", 2, 2, Pixels2x2);

        LoadedImage image = ImageLoader.Load(path, 2, 2, 3, [0.5f], [0.5f]);

        // (x − 0.5) / 0.5 = 2x − 1: red pixel → (1, −1, −1).
        Assert.AreEqual(1f, image.Tensor.Data[0], 1e-6f);
        Assert.AreEqual(-1f, image.Tensor.Data[4], 1e-6f);
        Assert.AreEqual(-1f, image.Tensor.Data[8], 1e-6f);
    }

    [TestMethod]
    public void Load_TransparentPixels_AreCompositedOverWhite()
    {
        SKColor[] pixels = [new(0, 0, 0, 0), new(255, 0, 0, 128)];
        string path = SavePng("alpha.png", 2, 1, pixels, SKAlphaType.Unpremul);

        LoadedImage image = ImageLoader.Load(path, 2, 1, channels: 3);

        float[] d = image.Tensor.Data; // [R0, R1, G0, G1, B0, B1]
        Assert.AreEqual(1f, d[0], ByteStep, "fully transparent black shows as white");
        Assert.AreEqual(1f, d[2], ByteStep);
        Assert.AreEqual(1f, d[4], ByteStep);
        Assert.AreEqual(1f, d[1], ByteStep, "half-transparent red over white is (1, ½, ½)");
        Assert.AreEqual(127f / 255f, d[3], 2 * ByteStep);
        Assert.AreEqual(127f / 255f, d[5], 2 * ByteStep);
        Assert.IsTrue(image.Rgba.Where((_, i) => i % 4 == 3).All(a => a == 255), "alpha is opaque after compositing");
    }

    [TestMethod]
    public void Load_OtherSize_ResizesToRequestedShapeAndKeepsUniformColour()
    {
        string path = SavePng("uniform.png", 4, 4, [.. Enumerable.Repeat(new SKColor(40, 120, 200), 16)]);

        LoadedImage image = ImageLoader.Load(path, 10, 6, channels: 3);

        CollectionAssert.AreEqual(new[] { 1, 3, 6, 10 }, image.Tensor.Shape);
        Assert.AreEqual(10, image.Width);
        Assert.AreEqual(6, image.Height);
        Assert.AreEqual(10 * 6 * 4, image.Rgba.Length);
        for (int c = 0; c < 3; c++)
        {
            float expected = new[] { 40, 120, 200 }[c] / 255f;
            Assert.IsTrue(image.Tensor.Data.Skip(c * 60).Take(60).All(v => Math.Abs(v - expected) <= ByteStep), $"channel {c}");
        }
    }

    [TestMethod]
    public void Load_Downscale_AveragesPixels()
    {
        // A 1-pixel checkerboard averaged 4:1 becomes mid-grey with a filter, stays black/white without one.
        SKColor[] board = [.. Enumerable.Range(0, 64).Select(i => (i % 8 + i / 8) % 2 == 0 ? SKColors.Black : SKColors.White)];
        string path = SavePng("board.png", 8, 8, board);

        LoadedImage image = ImageLoader.Load(path, 2, 2, channels: 1);

        Assert.IsTrue(image.Tensor.Data.All(v => v is > 0.3f and < 0.7f), string.Join(", ", image.Tensor.Data));
    }

    [TestMethod]
    public void Load_GreyscalePng_GivesEqualRgbChannels()
    {
        string path = Path.Combine(_folder, "gray8.png");
        using (var bitmap = new SKBitmap(new SKImageInfo(2, 1, SKColorType.Gray8, SKAlphaType.Opaque)))
        {
            bitmap.SetPixel(0, 0, new SKColor(30, 30, 30));
            bitmap.SetPixel(1, 0, new SKColor(220, 220, 220));
            WritePng(path, bitmap);
        }

        LoadedImage image = ImageLoader.Load(path, 2, 1, channels: 3);

        CollectionAssert.AreEqual(new[] { 30f / 255, 220f / 255, 30f / 255, 220f / 255, 30f / 255, 220f / 255 }, image.Tensor.Data);
    }

    [TestMethod]
    public void Load_Jpeg_DecodesCloseToTheEncodedColour()
    {
        string path = Path.Combine(_folder, "photo.jpg");
        using (SKBitmap bitmap = MakeBitmap(16, 16, [.. Enumerable.Repeat(new SKColor(200, 60, 30), 256)]))
        using (SKData jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100))
        {
            File.WriteAllBytes(path, jpeg.ToArray());
        }

        LoadedImage image = ImageLoader.Load(path, 16, 16, channels: 3);

        Assert.AreEqual(200f / 255, image.Tensor.Data[0], 4 * ByteStep);
        Assert.AreEqual(60f / 255, image.Tensor.Data[256], 4 * ByteStep);
        Assert.AreEqual(30f / 255, image.Tensor.Data[512], 4 * ByteStep);
    }

    [TestMethod]
    public void Load_MissingFile_ThrowsImageFormatNamingPath()
    {
        string path = Path.Combine(_folder, "missing.png");

        var e = Assert.ThrowsExactly<ImageFormatException>(() => ImageLoader.Load(path, 2, 2));

        Assert.Contains(path, e.Message);
    }

    [TestMethod]
    public void Load_NotAnImage_ThrowsImageFormatNamingPath()
    {
        string path = Path.Combine(_folder, "text.png");
        File.WriteAllText(path, "this is not a picture");

        var e = Assert.ThrowsExactly<ImageFormatException>(() => ImageLoader.Load(path, 2, 2));

        Assert.Contains(path, e.Message);
        Assert.Contains("PNG or JPEG", e.Message);
    }

    [TestMethod]
    public void Load_TruncatedPng_ThrowsInsteadOfReturningPartialImage()
    {
        string whole = SavePng("whole.png", 64, 64, [.. Enumerable.Range(0, 4096).Select(i => new SKColor((byte)i, (byte)(i >> 4), (byte)(i * 7)))]);
        byte[] bytes = File.ReadAllBytes(whole);
        string path = Path.Combine(_folder, "truncated.png");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.ThrowsExactly<ImageFormatException>(() => ImageLoader.Load(path, 64, 64));

        Assert.Contains(path, e.Message);
    }

    [TestMethod]
    public void Load_FourChannels_ThrowsInvalidInput()
    {
        string path = SavePng("c4.png", 2, 2, Pixels2x2);

        var e = Assert.ThrowsExactly<InvalidInputException>(() => ImageLoader.Load(path, 2, 2, channels: 4));

        Assert.Contains(path, e.Message);
    }

    [TestMethod]
    public void Load_BadNormalisation_ThrowsInvalidOptions()
    {
        string path = SavePng("opts.png", 2, 2, Pixels2x2);

        Assert.ThrowsExactly<InvalidOptionsException>(() => ImageLoader.Load(path, 2, 2, 3, mean: [0.5f, 0.5f]));
        Assert.ThrowsExactly<InvalidOptionsException>(() => ImageLoader.Load(path, 2, 2, 3, std: [0.2f, 0f, 0.2f]));
        Assert.ThrowsExactly<InvalidOptionsException>(() => ImageLoader.Load(path, 0, 2, 3));
    }

    [TestMethod]
    public void FromBitmap_InMemoryImage_MatchesLoadFromFile()
    {
        using SKBitmap bitmap = MakeBitmap(2, 2, Pixels2x2);
        string path = SavePng("same.png", 2, 2, Pixels2x2);

        LoadedImage fromMemory = ImageLoader.FromBitmap(bitmap, 2, 2, channels: 1);

        CollectionAssert.AreEqual(ImageLoader.Load(path, 2, 2, channels: 1).Tensor.Data, fromMemory.Tensor.Data);
    }

    // ---- ColorMap ----

    [TestMethod]
    public void Bwr_EndsAndCentre_AreBlueWhiteRed()
    {
        Assert.AreEqual(((byte)0, (byte)0, (byte)255), ColorMap.Bwr.Map(-1));
        Assert.AreEqual(((byte)255, (byte)255, (byte)255), ColorMap.Bwr.Map(0));
        Assert.AreEqual(((byte)255, (byte)0, (byte)0), ColorMap.Bwr.Map(1));
    }

    [TestMethod]
    public void Seismic_Centre_IsWhite()
    {
        Assert.AreEqual(((byte)255, (byte)255, (byte)255), ColorMap.Seismic.Map(0));
        Assert.AreEqual(((byte)0, (byte)0, (byte)76), ColorMap.Seismic.Map(-1));
        Assert.AreEqual(((byte)128, (byte)0, (byte)0), ColorMap.Seismic.Map(1));
    }

    [TestMethod]
    public void WhiteRed_Ends_AreWhiteAndRed()
    {
        Assert.IsFalse(ColorMap.WhiteRed.IsDiverging);
        Assert.AreEqual(((byte)255, (byte)255, (byte)255), ColorMap.WhiteRed.Map(0));
        Assert.AreEqual(((byte)255, (byte)128, (byte)128), ColorMap.WhiteRed.Map(0.5f));
        Assert.AreEqual(((byte)255, (byte)0, (byte)0), ColorMap.WhiteRed.Map(1));
    }

    /// <summary>
    /// References: <c>matplotlib.colormaps[name](x, bytes=True)</c> with x = (t + 1) / 2 for the diverging maps, x = t for hot
    /// (matplotlib 3.6.3). Matplotlib reads a 256-entry table and truncates, hence the tolerance of 3 levels.
    /// </summary>
    [TestMethod]
    [DataRow("bwr", -0.5f, 128, 128, 255)]
    [DataRow("bwr", -0.25f, 192, 192, 255)]
    [DataRow("bwr", 0.25f, 255, 190, 190)]
    [DataRow("bwr", 0.5f, 255, 126, 126)]
    [DataRow("seismic", -0.5f, 1, 1, 255)]
    [DataRow("seismic", -0.25f, 129, 129, 255)]
    [DataRow("seismic", 0.25f, 255, 125, 125)]
    [DataRow("seismic", 0.5f, 253, 0, 0)]
    [DataRow("seismic", 1f, 127, 0, 0)]
    [DataRow("hot", 0f, 10, 0, 0)]
    [DataRow("hot", 0.2f, 144, 0, 0)]
    [DataRow("hot", 0.5f, 255, 91, 0)]
    [DataRow("hot", 0.9f, 255, 255, 156)]
    [DataRow("hot", 1f, 255, 255, 255)]
    public void Map_KnownPoints_AgreeWithMatplotlib(string name, float t, int r, int g, int b)
    {
        ColorMap map = name switch { "bwr" => ColorMap.Bwr, "seismic" => ColorMap.Seismic, _ => ColorMap.Hot };

        (byte R, byte G, byte B) c = map.Map(t);

        Assert.AreEqual(r, c.R, 3, "red");
        Assert.AreEqual(g, c.G, 3, "green");
        Assert.AreEqual(b, c.B, 3, "blue");
    }

    [TestMethod]
    public void Map_NaNAndOutOfRange_ClampInsteadOfFailing()
    {
        Assert.AreEqual(ColorMap.Bwr.Map(0), ColorMap.Bwr.Map(float.NaN));
        Assert.AreEqual(ColorMap.Bwr.Map(1), ColorMap.Bwr.Map(7));
        Assert.AreEqual(ColorMap.Bwr.Map(-1), ColorMap.Bwr.Map(float.NegativeInfinity));
        Assert.AreEqual(ColorMap.WhiteRed.Map(0), ColorMap.WhiteRed.Map(-3));
    }

    // ---- HeatmapRenderer ----

    [TestMethod]
    public void Render_AllZeros_IsWhiteWithoutError()
    {
        using SKBitmap bitmap = HeatmapRenderer.Render(new float[6], 3, 2);

        Assert.AreEqual(3, bitmap.Width);
        Assert.AreEqual(2, bitmap.Height);
        Assert.IsTrue(bitmap.Pixels.All(p => p == SKColors.White));
    }

    [TestMethod]
    public void Render_SignedMap_NormalisesByAbsoluteMaximumWithBwr()
    {
        using SKBitmap bitmap = HeatmapRenderer.Render([-2f, 0f, 1f, 2f], 4, 1);

        Assert.AreEqual(new SKColor(0, 0, 255), bitmap.GetPixel(0, 0));
        Assert.AreEqual(SKColors.White, bitmap.GetPixel(1, 0));
        Assert.AreEqual(new SKColor(255, 128, 128), bitmap.GetPixel(2, 0));
        Assert.AreEqual(new SKColor(255, 0, 0), bitmap.GetPixel(3, 0));
    }

    [TestMethod]
    public void Render_NonNegativeMap_UsesSequentialMap()
    {
        var options = new HeatmapOptions { SequentialMap = ColorMap.Hot };

        using SKBitmap bitmap = HeatmapRenderer.Render([0f, 4f], 2, 1, options);

        (byte r, byte g, byte b) = ColorMap.Hot.Map(0);
        Assert.AreEqual(new SKColor(r, g, b), bitmap.GetPixel(0, 0));
        Assert.AreEqual(SKColors.White, bitmap.GetPixel(1, 0));
    }

    [TestMethod]
    public void Render_SignedForced_UsesDivergingMapForNonNegativeValues()
    {
        var options = new HeatmapOptions { Signed = true, DivergingMap = ColorMap.Seismic };

        using SKBitmap bitmap = HeatmapRenderer.Render([0f, 1f], 2, 1, options);

        Assert.AreEqual(SKColors.White, bitmap.GetPixel(0, 0));
        Assert.AreEqual(new SKColor(128, 0, 0), bitmap.GetPixel(1, 0));
    }

    [TestMethod]
    public void Render_NaNAndInfinity_DoNotPoisonTheScale()
    {
        using SKBitmap bitmap = HeatmapRenderer.Render([float.NaN, 1f, float.PositiveInfinity, -1f], 4, 1);

        Assert.AreEqual(SKColors.White, bitmap.GetPixel(0, 0));
        Assert.AreEqual(new SKColor(255, 0, 0), bitmap.GetPixel(1, 0));
        Assert.AreEqual(new SKColor(255, 0, 0), bitmap.GetPixel(2, 0));
        Assert.AreEqual(new SKColor(0, 0, 255), bitmap.GetPixel(3, 0));
    }

    [TestMethod]
    public void Render_SharedAbsMax_ScalesAgainstIt()
    {
        using SKBitmap bitmap = HeatmapRenderer.Render([1f, -1f], 2, 1, new HeatmapOptions { AbsMax = 2f });

        Assert.AreEqual(new SKColor(255, 128, 128), bitmap.GetPixel(0, 0));
        Assert.AreEqual(new SKColor(128, 128, 255), bitmap.GetPixel(1, 0));
    }

    [TestMethod]
    public void Render_Overlay_KeepsSizeAndBlendsOverGreyImage()
    {
        // Zero map (white) at α = 0.6 over a pure-blue image, whose grey level is 0.1140·255 = 29.07.
        byte[] image = [.. Enumerable.Repeat(new byte[] { 0, 0, 255, 255 }, 6).SelectMany(p => p)];
        var options = new HeatmapOptions { Overlay = image, OverlayAlpha = 0.6f };

        using SKBitmap bitmap = HeatmapRenderer.Render(new float[6], 3, 2, options);

        Assert.AreEqual(3, bitmap.Width);
        Assert.AreEqual(2, bitmap.Height);
        byte expected = (byte)Math.Round((0.6 * 255) + (0.4 * 0.1140 * 255));
        Assert.IsTrue(bitmap.Pixels.All(p => p == new SKColor(expected, expected, expected)), bitmap.GetPixel(0, 0).ToString());
    }

    [TestMethod]
    public void Render_MinSide_EnlargesByWholeFactorWithSharpPixels()
    {
        float[] map = [.. Enumerable.Range(0, 28 * 28).Select(i => (float)(i % 3) - 1)];

        using SKBitmap big = HeatmapRenderer.Render(map, 28, 28, new HeatmapOptions { MinSide = 224 });
        using SKBitmap odd = HeatmapRenderer.Render([-1f, 0f, 1f, 1f, 0f, -1f], 3, 2, new HeatmapOptions { MinSide = 5 });

        Assert.AreEqual(224, big.Width);
        Assert.AreEqual(224, big.Height);
        Assert.AreEqual(9, odd.Width, "factor ⌈5 / 2⌉ = 3");
        Assert.AreEqual(6, odd.Height);
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 3; x++)
            {
                Assert.AreEqual(new SKColor(0, 0, 255), odd.GetPixel(x, y));
                Assert.AreEqual(SKColors.White, odd.GetPixel(x + 3, y));
                Assert.AreEqual(new SKColor(255, 0, 0), odd.GetPixel(x + 6, y));
                Assert.AreEqual(new SKColor(0, 0, 255), odd.GetPixel(x + 6, y + 3));
            }
        }
    }

    [TestMethod]
    public void Render_Tensor_AcceptsLeadingAxesOfOne()
    {
        using SKBitmap bitmap = HeatmapRenderer.Render(new Tensor([0f, 1f, 2f, 3f, 4f, 5f], [1, 1, 2, 3]));

        Assert.AreEqual(3, bitmap.Width);
        Assert.AreEqual(2, bitmap.Height);
        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.Render(new Tensor(2, 2, 3)));
    }

    [TestMethod]
    public void Render_MismatchedSizes_Throw()
    {
        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.Render(new float[5], 3, 2));
        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.Render(new float[6], 3, 2, new HeatmapOptions { Overlay = new byte[6] }));
        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.Render(new float[6], 3, 2, new HeatmapOptions { OverlayAlpha = 1.5f }));
        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.Render(new float[6], 3, 2, new HeatmapOptions { DivergingMap = ColorMap.Hot }));
    }

    [TestMethod]
    public void SavePng_RenderedMap_DecodesToSamePixels()
    {
        string path = Path.Combine(_folder, "heat.png");
        using SKBitmap bitmap = HeatmapRenderer.Render([-1f, 0.5f, 0f, 1f], 2, 2);

        HeatmapRenderer.SavePng(path, bitmap);

        using SKBitmap decoded = SKBitmap.Decode(path);
        CollectionAssert.AreEqual(bitmap.Pixels, decoded.Pixels);
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(_folder), "no temporary file is left");
    }

    [TestMethod]
    public void SavePng_MissingFolder_ThrowsImageFormatNamingPath()
    {
        string path = Path.Combine(_folder, "nowhere", "heat.png");
        using SKBitmap bitmap = HeatmapRenderer.Render([1f], 1, 1);

        var e = Assert.ThrowsExactly<ImageFormatException>(() => HeatmapRenderer.SavePng(path, bitmap));

        Assert.Contains(path, e.Message);
    }

    [TestMethod]
    public void RenderGrid_WithoutText_SizeIsPanelsPlusPadding()
    {
        using SKBitmap panel = MakeBitmap(20, 10, [.. Enumerable.Repeat(SKColors.Red, 200)]);

        using SKBitmap grid = HeatmapRenderer.RenderGrid([[panel, panel, panel], [panel, null]], padding: 8);

        Assert.AreEqual(8 + (3 * (20 + 8)), grid.Width);
        Assert.AreEqual(8 + (2 * (10 + 8)), grid.Height);
        Assert.AreEqual(SKColors.Red, grid.GetPixel(8, 8));
        Assert.AreEqual(SKColors.White, grid.GetPixel(8 + 28 + 10, 8 + 18 + 5), "a null panel leaves its cell blank");
        Assert.AreEqual(SKColors.White, grid.GetPixel(8 + 56 + 10, 8 + 18 + 5), "a short row leaves its cells blank");
    }

    [TestMethod]
    public void RenderGrid_TitlesAndLabels_DrawVisibleText()
    {
        using SKBitmap panel = HeatmapRenderer.Render([-1f, 1f, 1f, -1f], 2, 2, new HeatmapOptions { MinSide = 40 });
        string[] titles = ["image", "LRP", "CLRP1", "CLRP2"];

        using SKBitmap grid = HeatmapRenderer.RenderGrid([[panel, panel, panel, panel], [panel, panel, panel, panel]], titles, ["tabby", "tiger cat"]);
        using SKBitmap blank = HeatmapRenderer.RenderGrid([[panel, panel, panel, panel], [panel, panel, panel, panel]], ["", "", "", ""], ["", ""]);

        int panelsTop = FirstPanelRow(grid);
        Assert.IsTrue(CountDark(grid, 0, grid.Width, 0, panelsTop - 1) > 20, "titles are drawn above the panels");
        int panelsLeft = FirstPanelColumn(grid, panelsTop + 5);
        Assert.IsTrue(CountDark(grid, 0, panelsLeft - 1, panelsTop, grid.Height) > 20, "row labels are drawn left of the panels");
        Assert.AreEqual(0, CountDark(blank, 0, blank.Width, 0, blank.Height), "empty strings draw nothing dark");
        HeatmapRenderer.SavePng(Path.Combine(_folder, "grid.png"), grid);
    }

    [TestMethod]
    public void RenderGrid_MismatchedTitles_Throw()
    {
        using SKBitmap panel = MakeBitmap(2, 2, Pixels2x2);

        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.RenderGrid([[panel, panel]], ["only one"]));
        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.RenderGrid([[panel]], rowLabels: ["a", "b"]));
        Assert.ThrowsExactly<ArgumentException>(() => HeatmapRenderer.RenderGrid([]));
    }

    // ---- helpers ----

    private static byte Channel(SKColor p, int c) => c switch { 0 => p.Red, 1 => p.Green, _ => p.Blue };

    private static SKBitmap MakeBitmap(int width, int height, SKColor[] pixels, SKAlphaType alpha = SKAlphaType.Premul)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha));
        for (int i = 0; i < pixels.Length; i++)
        {
            bitmap.SetPixel(i % width, i / width, pixels[i]);
        }

        return bitmap;
    }

    private string SavePng(string name, int width, int height, SKColor[] pixels, SKAlphaType alpha = SKAlphaType.Premul)
    {
        string path = Path.Combine(_folder, name);
        using SKBitmap bitmap = MakeBitmap(width, height, pixels, alpha);
        WritePng(path, bitmap);
        return path;
    }

    private static void WritePng(string path, SKBitmap bitmap)
    {
        using SKData png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
    }

    private static bool IsDark(SKColor p) => p.Red < 128 && p.Green < 128 && p.Blue < 128;

    private static int CountDark(SKBitmap bitmap, int x0, int x1, int y0, int y1)
    {
        int count = 0;
        for (int y = Math.Max(0, y0); y < Math.Min(bitmap.Height, y1); y++)
        {
            for (int x = Math.Max(0, x0); x < Math.Min(bitmap.Width, x1); x++)
            {
                count += IsDark(bitmap.GetPixel(x, y)) ? 1 : 0;
            }
        }

        return count;
    }

        /// <summary>Panels in the text test are pure blue or red; text is grey-black.</summary>
    private static bool IsPanel(SKColor p) => p == new SKColor(0, 0, 255) || p == new SKColor(255, 0, 0);

    /// <summary>First row holding a panel pixel, i.e. below the title band.</summary>
    private static int FirstPanelRow(SKBitmap bitmap)
    {
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                if (IsPanel(bitmap.GetPixel(x, y)))
                {
                    return y;
                }
            }
        }

        return bitmap.Height;
    }

    /// <summary>First column of row <paramref name="y"/> holding a panel pixel, i.e. right of the label band.</summary>
    private static int FirstPanelColumn(SKBitmap bitmap, int y)
    {
        for (int x = 0; x < bitmap.Width; x++)
        {
            if (IsPanel(bitmap.GetPixel(x, y)))
            {
                return x;
            }
        }

        return bitmap.Width;
    }
}
