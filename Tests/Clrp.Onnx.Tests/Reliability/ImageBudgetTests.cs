using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// Pictures are sized by their header before any pixel is decoded (issue 12, item 2): above the pixel budget they are
/// refused with <see cref="ResourceLimitException"/> (exit 2), large JPEGs are decoded scaled down to what the model
/// needs, and a <c>--size</c> that contradicts a fixed model input is refused before anything is resized.
/// </summary>
[TestClass]
public sealed class ImageBudgetTests
{
    private const string AnkleBoot = "samples/fashion-test-0000-ankle-boot.png";

    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Load_PngClaiming100000Squared_RefusedFromTheHeader()
    {
        string path = Write("bomb.png", HostileImages.PngClaiming(100_000, 100_000));
        Assert.IsLessThan(2_000L, new FileInfo(path).Length);

        var e = Assert.ThrowsExactly<ResourceLimitException>(() => ImageLoader.Load(path, 28, 28, channels: 1));

        StringAssert.Contains(e.Message, "100000×100000");
        StringAssert.Contains(e.Message, "bomb.png");
        StringAssert.Contains(e.Message, "--max-pixels");
    }

    [TestMethod]
    public void Load_JpegClaiming30000Squared_RefusedFromTheHeader()
    {
        string path = Write("bomb.jpg", HostileImages.JpegClaiming(30_000, 30_000));
        using (SKCodec codec = SKCodec.Create(path))
        {
            Assert.AreEqual(new SKSizeI(30_000, 30_000), codec.Info.Size, "the crafted header must claim the size");
        }

        var e = Assert.ThrowsExactly<ResourceLimitException>(() => ImageLoader.Load(path, 224, 224));

        StringAssert.Contains(e.Message, "30000×30000");
    }

    [TestMethod]
    public void Load_PictureAtTheBudget_LoadsAndOneMorePixelIsRefused()
    {
        string path = Write("wide.png", HostileImages.Gradient(300, 200, SKEncodedImageFormat.Png));

        LoadedImage image = ImageLoader.Load(path, 30, 20, options: new ImageLoadOptions { MaxPixels = 60_000 });
        var e = Assert.ThrowsExactly<ResourceLimitException>(() => ImageLoader.Load(path, 30, 20, options: new ImageLoadOptions { MaxPixels = 59_999 }));

        Assert.AreEqual(3 * 30 * 20, image.Tensor.Length);
        StringAssert.Contains(e.Message, "300×200");
    }

    [TestMethod]
    public void Load_ResizeTargetAboveTheBudget_RefusedBeforeDecoding()
    {
        string path = Write("small.png", HostileImages.Gradient(8, 8, SKEncodedImageFormat.Png));

        var e = Assert.ThrowsExactly<ResourceLimitException>(() => ImageLoader.Load(path, 23170, 23170, channels: 1));

        StringAssert.Contains(e.Message, "23170×23170");
    }

    [TestMethod]
    public void DecodeSize_LargeJpeg_SmallestEighthThatCoversTheModelInput()
    {
        string jpeg = Write("photo.jpg", HostileImages.Gradient(1600, 1200, SKEncodedImageFormat.Jpeg));
        string png = Write("photo.png", HostileImages.Gradient(1600, 1200, SKEncodedImageFormat.Png));

        Assert.AreEqual(new SKSizeI(200, 150), ImageLoader.DecodeSize(jpeg, 64, 64));
        Assert.AreEqual(new SKSizeI(400, 300), ImageLoader.DecodeSize(jpeg, 224, 224));
        Assert.AreEqual(new SKSizeI(800, 600), ImageLoader.DecodeSize(jpeg, 800, 600));
        Assert.AreEqual(new SKSizeI(1600, 1200), ImageLoader.DecodeSize(jpeg, 1500, 100));
        Assert.AreEqual(new SKSizeI(1600, 1200), ImageLoader.DecodeSize(png, 64, 64), "PNG has no scaled decoding");
    }

    [TestMethod]
    public void Load_LargeJpegDecodedScaled_MatchesTheFullDecodeResized()
    {
        string jpeg = Write("photo.jpg", HostileImages.Gradient(1600, 1200, SKEncodedImageFormat.Jpeg));
        using SKBitmap full = SKBitmap.Decode(jpeg);

        LoadedImage scaled = ImageLoader.Load(jpeg, 64, 48);
        LoadedImage reference = ImageLoader.FromBitmap(full, 64, 48);

        double meanAbs = scaled.Tensor.Data.Zip(reference.Tensor.Data, (a, b) => Math.Abs(a - b)).Average();
        Assert.IsLessThan(0.01, meanAbs, $"mean |scaled − full| on [0,1] = {meanAbs}");
    }

    [TestMethod]
    public void Cli_PngBomb_ExitsTwoNamingTheBudget()
    {
        string path = Write("bomb.png", HostileImages.PngClaiming(100_000, 100_000));

        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", path).AssertBadInput("100000×100000", "--max-pixels");
    }

    [TestMethod]
    public void Cli_MaxPixelsBelowThePicture_ExitsTwo_AndAboveItSucceeds()
    {
        string path = TestPaths.Model(AnkleBoot);
        string[] args = ["explain", "--model", TestPaths.FashionVgg, "--input", path, "--mean", "0.2860", "--std", "0.3530"];

        CliRun.Of([.. args, "--max-pixels", "700"]).AssertBadInput("28×28", "--max-pixels");
        CliRun.Of([.. args, "--max-pixels", "1k"]).AssertSuccess();
    }

    [TestMethod]
    [DataRow("0")]
    [DataRow("-5")]
    [DataRow("12x")]
    [DataRow("")]
    public void Cli_MalformedMaxPixels_ExitsTwoNamingTheOption(string value)
    {
        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", TestPaths.Model(AnkleBoot), "--max-pixels", value).AssertBadInput("--max-pixels");
    }

    [TestMethod]
    public void Cli_SizeAgainstAFixedModelInput_ExitsTwoBeforeResizing()
    {
        CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", TestPaths.Model(AnkleBoot), "--size", "23170,23170")
            .AssertBadInput("--size 23170,23170", "[?,1,28,28]", "28,28");
    }

    [TestMethod]
    public void Grid_PngBomb_ExitsTwo()
    {
        string path = Write("bomb.png", HostileImages.PngClaiming(50_000, 50_000));

        CliRun.Of("grid", "--model", TestPaths.FashionVgg, "--inputs", path, "--out", Path.Combine(_dir, "g.png")).AssertBadInput("50000×50000");
        Assert.IsFalse(File.Exists(Path.Combine(_dir, "g.png")));
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
