using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Tests.Support;

/// <summary>Runs <see cref="ClrpExplainer"/> on in-memory models and checks it against float64 references and ORT finite differences.</summary>
internal static class ExplainerHarness
{
    /// <summary>Writes <paramref name="model"/> to a fresh temporary file.</summary>
    public static string Save(byte[] model)
    {
        string path = Path.Combine(TestPaths.TempDir(), "model.onnx");
        File.WriteAllBytes(path, model);
        return path;
    }

    public static Explanation Explain(byte[] model, float[] x, int[] shape, ExplainerOptions options, Target target)
    {
        using var explainer = ClrpExplainer.Load(Save(model), options);
        return explainer.Explain(new Tensor(x, shape), target);
    }

    /// <summary>
    /// LRP with <paramref name="composite"/> for class <paramref name="target"/> on every image of <paramref name="x"/> equals the
    /// reference net's relevance for the seed <c>e_j·|z_j|</c>; the logits equal the reference forward.
    /// </summary>
    public static Explanation AssertLrpMatchesReference(byte[] model, ReferenceNet reference, float[] x, int[] imageShape, Composite composite, int target, double tolerance, string what)
    {
        int length = imageShape.Aggregate(1, (a, b) => a * b);
        int n = x.Length / length;
        Explanation e = Explain(model, x, [n, .. imageShape], new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = composite }, target);
        for (int img = 0; img < n; img++)
        {
            double[] xi = RandomData.ToDouble(x.AsSpan(img * length, length));
            double[] logits = reference.Logits(xi);
            Compare.Close(e.Logits.Row(img), logits, 1e-5, $"{what}: logits of image {img} vs float64 reference forward");
            var seed = new double[logits.Length];
            seed[target] = Math.Abs(logits[target]);
            double[] expected = reference.Relevance(xi, seed);
            Compare.Close(e.Relevance.Data.AsSpan(img * length, length), expected, tolerance, $"{what}: relevance of image {img}");
        }

        return e;
    }

    /// <summary>Gradient mode equals central finite differences of ORT's own forward (one image, symbolic batch axis).</summary>
    public static void AssertGradientMatchesFiniteDifferences(byte[] model, float[] x, int[] imageShape, int target, float h, double tolerance, string what)
    {
        Explanation e = Explain(model, x, [1, .. imageShape], new ExplainerOptions { Method = ExplainMethod.Gradient }, target);
        using var oracle = new OrtOracle(model);
        double[] fd = oracle.FiniteDifferenceGradient(x, [1, .. imageShape], target, h);
        Compare.Close(e.Relevance.Data, fd, tolerance, $"{what}: gradient vs ORT finite differences");
    }
}
