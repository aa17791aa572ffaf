namespace Clrp.Onnx.Tests.Support;

/// <summary>Numerical comparisons with messages that say where and by how much.</summary>
internal static class Compare
{
    /// <summary>‖actual − expected‖₂ / ‖expected‖₂ (absolute norm when expected is all zeros).</summary>
    public static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.AreEqual(expected.Length, actual.Length, "length");
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - (double)expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    public static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.AreEqual(expected.Length, actual.Length, "length");
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
        }

        return norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
    }

    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double tolerance, string what)
    {
        double e = RelativeL2(actual, expected);
        Assert.IsTrue(e <= tolerance, $"{what}: relative L2 error {e:E3} > {tolerance:E1}");
    }

    public static void Close(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double tolerance, string what)
    {
        double e = RelativeL2(actual, expected);
        Assert.IsTrue(e <= tolerance, $"{what}: relative L2 error {e:E3} > {tolerance:E1}");
    }
}
