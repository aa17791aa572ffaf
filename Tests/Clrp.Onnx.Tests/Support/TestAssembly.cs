namespace Clrp.Onnx.Tests.Support;

/// <summary>Process-wide settings of the test run.</summary>
[TestClass]
public static class TestAssembly
{
    /// <summary>
    /// The CLI caches compiled graphs in a per-user folder by default; the tests keep theirs in a fresh temporary folder,
    /// so a run neither reads graphs an earlier build left nor fills the user's cache.
    /// </summary>
    [AssemblyInitialize]
    public static void Initialize(TestContext context)
    {
        _ = context;
        Environment.SetEnvironmentVariable("CLRP_CACHE_DIR", TestPaths.TempDir());
    }
}
