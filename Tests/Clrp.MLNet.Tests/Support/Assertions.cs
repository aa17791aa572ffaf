namespace Clrp.MLNet.Tests.Support;

internal static class Assertions
{
    /// <summary>Every |expected − actual| ≤ <paramref name="tolerance"/>; the message names the first index that is not.</summary>
    public static void AllClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
            {
                Assert.Fail($"{what}: index {i} expected {expected[i]} got {actual[i]} (tolerance {tolerance}).");
            }
        }
    }
}
