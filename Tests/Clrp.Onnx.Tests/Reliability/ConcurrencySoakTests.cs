using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// Concurrency soak (issue 12, item 7) from cold: 8 threads start on explainers that have never run (no warm-up, so the
/// first-use paths — kernel sessions, weight caches, the buffer pool — race), 500 explanations each, mixed methods
/// (one explainer per method, shared by all threads), batch sizes 1–3 and targets. Every result must be bit-identical
/// to the same request made alone, afterwards.
/// </summary>
[TestClass]
public sealed class ConcurrencySoakTests
{
    private const int Threads = 8, PerThread = 500;

    [TestMethod]
    public void Explain_EightColdThreads500Each_BitIdenticalToSequential()
    {
        // x [N,1,8,8] → Conv 3×3 → Relu → Conv 3×3 (residual Add) → MaxPool → Flatten → Gemm(5) → Softmax: small enough
        // for 4,000 explanations in a few seconds, and every rule family (first layer, Conv, residual, pool, dense).
        float[] W(int n, int seed) => [.. Enumerable.Range(0, n).Select(i => (float)Math.Sin((i * 12.9898) + seed) * 0.4f)];
        string model = new OnnxBuilder(13).Input("x", "N", 1L, 8L, 8L)
            .Initializer("w1", W(4 * 9, 1), [4, 1, 3, 3]).Initializer("b1", W(4, 2), [4])
            .Initializer("w2", W(16 * 9, 3), [4, 4, 3, 3])
            .Initializer("g", W(5 * 64, 4), [5, 64]).Initializer("gb", W(5, 5), [5])
            .Node("Conv", ["x", "w1", "b1"], ["c1"], OnnxBuilder.Ints("pads", 1, 1, 1, 1)).Node("Relu", ["c1"], ["r1"])
            .Node("Conv", ["r1", "w2"], ["c2"], OnnxBuilder.Ints("pads", 1, 1, 1, 1)).Node("Add", ["r1", "c2"], ["s"]).Node("Relu", ["s"], ["r2"])
            .Node("MaxPool", ["r2"], ["p"], OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2))
            .Node("Flatten", ["p"], ["f"]).Node("Gemm", ["f", "g", "gb"], ["z"], OnnxBuilder.Int("transB", 1)).Node("Softmax", ["z"], ["y"])
            .Output("y").Save();
        ExplainMethod[] methods = [ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Clrp2, ExplainMethod.Sglrp, ExplainMethod.GradientInput];
        Tensor[] inputs = [.. Enumerable.Range(1, 3).Select(n => new Tensor([.. Enumerable.Range(0, n * 64).Select(i => (float)Math.Cos(i * 0.37) + (0.1f * n))], [n, 1, 8, 8]))];
        Target[] targets = [Target.Predicted, Target.Class(2), Target.TopK(2)];
        (int Method, int Input, int Target) Request(int thread, int i) => ((thread + i) % methods.Length, (thread + (i / 5)) % inputs.Length, i / 15 % targets.Length);

        var results = new float[Threads][][];
        ClrpExplainer[] explainers = [.. methods.Select(m => ClrpExplainer.Load(model, new ExplainerOptions { Method = m }))];
        try
        {
            using var gate = new Barrier(Threads);
            var failures = new List<Exception>();
            Thread[] workers = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() =>
            {
                try
                {
                    results[t] = new float[PerThread][];
                    gate.SignalAndWait();
                    for (int i = 0; i < PerThread; i++)
                    {
                        (int m, int x, int g) = Request(t, i);
                        results[t][i] = explainers[m].Explain(inputs[x], targets[g]).Relevance.Data;
                    }
                }
                catch (Exception e)
                {
                    lock (failures)
                    {
                        failures.Add(e);
                    }
                }
            }))];
            foreach (Thread w in workers)
            {
                w.Start();
            }

            foreach (Thread w in workers)
            {
                w.Join();
            }

            Assert.IsEmpty(failures, string.Join("\n", failures));

            // The same requests alone: every distinct (method, input, target) once, compared bit for bit.
            var alone = new Dictionary<(int, int, int), float[]>();
            int compared = 0;
            for (int t = 0; t < Threads; t++)
            {
                for (int i = 0; i < PerThread; i++)
                {
                    (int m, int x, int g) key = Request(t, i);
                    if (!alone.TryGetValue(key, out float[]? expected))
                    {
                        alone[key] = expected = explainers[key.m].Explain(inputs[key.x], targets[key.g]).Relevance.Data;
                    }

                    CollectionAssert.AreEqual(expected, results[t][i], $"thread {t}, explanation {i}: {methods[key.m]}, batch {key.x + 1}, {targets[key.g]}");
                    compared++;
                }
            }

            Assert.AreEqual(Threads * PerThread, compared);
            Assert.AreEqual(methods.Length * inputs.Length * targets.Length, alone.Count, "every combination was exercised");
        }
        finally
        {
            foreach (ClrpExplainer e in explainers)
            {
                e.Dispose();
            }
        }
    }
}
