namespace Clrp.Cluster.Tests.Support;

/// <summary>Compares output folders file by file, byte by byte.</summary>
internal static class Trees
{
    /// <summary>Relative path ('/' separators) → bytes, for every file below <paramref name="root"/>.</summary>
    public static SortedDictionary<string, byte[]> Read(string root) => new(
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f).Replace('\\', '/'), File.ReadAllBytes),
        StringComparer.Ordinal);

    /// <summary>Asserts both folders hold the same files with the same bytes, leaving out paths matched by <paramref name="skip"/>.</summary>
    public static void AssertSame(string expectedRoot, string actualRoot, Func<string, bool>? skip = null)
    {
        SortedDictionary<string, byte[]> expected = Read(expectedRoot), actual = Read(actualRoot);
        string[] expectedNames = [.. expected.Keys.Where(k => skip is null || !skip(k))];
        string[] actualNames = [.. actual.Keys.Where(k => skip is null || !skip(k))];
        CollectionAssert.AreEqual(expectedNames, actualNames, $"file lists differ: only expected {string.Join(", ", expectedNames.Except(actualNames).Take(5))}; only actual {string.Join(", ", actualNames.Except(expectedNames).Take(5))}");
        foreach (string name in expectedNames)
        {
            Assert.IsTrue(expected[name].AsSpan().SequenceEqual(actual[name]), $"'{name}' differs between {expectedRoot} and {actualRoot}");
        }
    }
}
