namespace Clrp.Onnx.Tests.Support;

/// <summary>Where the test fixtures and committed models are copied next to the test assembly.</summary>
internal static class TestPaths
{
    public static string Fixture(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static string Model(string file) => Path.Combine(AppContext.BaseDirectory, "models", file);

    public static string FashionVgg => Model("fashion-vgg.onnx");

    /// <summary>A fresh temporary folder for one test.</summary>
    public static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "clrp-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
