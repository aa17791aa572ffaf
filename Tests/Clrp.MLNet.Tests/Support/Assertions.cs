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

    /// <summary>‖actual − expected‖₂ / ‖expected‖₂ ≤ <paramref name="tolerance"/>, for maps whose values are far below any useful absolute tolerance.</summary>
    public static void RelativeL2Below(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance, string what)
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: length");
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff += (actual[i] - (double)expected[i]) * (actual[i] - (double)expected[i]);
            norm += (double)expected[i] * expected[i];
        }

        Assert.IsGreaterThan(0, norm, $"{what}: the expected map is all zeros");
        double error = Math.Sqrt(diff / norm);
        Assert.IsLessThanOrEqualTo(tolerance, error, $"{what}: relative L2 error {error:E3}");
    }
}
