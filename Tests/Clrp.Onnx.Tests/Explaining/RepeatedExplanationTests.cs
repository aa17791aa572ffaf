using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Explaining;

/// <summary>
/// An explainer reuses its large buffers between explanations (<see cref="BufferPool"/>). A buffer handed back while
/// still in use would corrupt a later map silently, so these tests explain the same input before and after other
/// explanations (other inputs, batch sizes, top-k, threads) and require identical maps. The 64² fashion-pair models
/// have activations above the pool's size threshold, residual Adds (ResNet) and depthwise convolutions (MobileNet).
/// </summary>
[TestClass]
public sealed class RepeatedExplanationTests
{
    private static Tensor Noise(int seed, int images)
    {
        var random = new Random(seed);
        var data = new float[images * 64 * 64];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)((random.NextDouble() * 2) - 0.5);
        }

        return new Tensor(data, [images, 1, 64, 64]);
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (string model in new[] { "fashion-pair-vgg.onnx", "fashion-pair-resnet.onnx", "fashion-pair-mobilenet.onnx" })
        {
            foreach (ExplainMethod method in new[] { ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Clrp2, ExplainMethod.Sglrp, ExplainMethod.Gradient })
            {
                yield return [model, method];
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MapsDoNotChangeWhenBuffersAreReused(string model, ExplainMethod method)
    {
        using ClrpExplainer explainer = ClrpExplainer.Load(TestPaths.Model(model), new ExplainerOptions { Method = method });
        Tensor a = Noise(1, 2), b = Noise(2, 3);
        Explanation first = explainer.Explain(a);
        _ = explainer.Explain(b);
        _ = explainer.Explain(b, Target.TopK(3));
        _ = explainer.Explain(Noise(3, 2));
        Explanation again = explainer.Explain(a);

        Assert.AreEqual(0.0, Compare.RelativeL2(again.Relevance.Data, first.Relevance.Data), 1e-6, $"{model} {method}: the map changed after other explanations");
        CollectionAssert.AreEqual(first.Logits.Data, again.Logits.Data, $"{model} {method}: the logits changed");
    }

    /// <summary>From cold: the parallel calls are the explainer's first (kernel sessions, weight caches and the pool are
    /// created under the race); the sequential reference comes from a second explainer afterwards.</summary>
    [TestMethod]
    public void ConcurrentExplanationsOnOneExplainerMatchSequentialOnes()
    {
        var options = new ExplainerOptions { Method = ExplainMethod.Clrp1 };
        using ClrpExplainer explainer = ClrpExplainer.Load(TestPaths.Model("fashion-pair-resnet.onnx"), options);
        Tensor[] inputs = [.. Enumerable.Range(10, 6).Select(seed => Noise(seed, 1 + (seed % 2)))];
        var parallel = new Tensor[inputs.Length * 3];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = explainer.Explain(inputs[i % inputs.Length]).Relevance);
        using ClrpExplainer reference = ClrpExplainer.Load(TestPaths.Model("fashion-pair-resnet.onnx"), options);
        Tensor[] sequential = [.. inputs.Select(x => reference.Explain(x).Relevance)];
        for (int i = 0; i < parallel.Length; i++)
        {
            Assert.AreEqual(0.0, Compare.RelativeL2(parallel[i].Data, sequential[i % inputs.Length].Data), 1e-6, $"run {i}");
        }
    }
}
