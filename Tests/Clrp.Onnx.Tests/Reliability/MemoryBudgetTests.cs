using System.Diagnostics;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// <see cref="ExplainerOptions.MaxMemoryBytes"/> (issue 12, item 5): a request that cannot fit is refused before
/// anything is allocated; and a soak of 2,000 mixed explanations whose working set stops growing after the first 200.
/// </summary>
[TestClass]
public sealed class MemoryBudgetTests
{
    private static readonly BoxBounds Bounds = BoxBounds.FromMeanStd([0.2860f], [0.3530f]);

    private static Tensor Batch(int n)
    {
        Tensor one = NpyFile.Read(TestPaths.Fixture("reference", "input.npy"));
        var x = new Tensor(n, 1, 28, 28);
        for (int i = 0; i < n; i++)
        {
            one.Data.CopyTo(x.Data, i * one.Length);
            x.Data[(i * one.Length) + (i % one.Length)] += 0.01f * i;
        }

        return x;
    }

    [TestMethod]
    public void Explain_BatchAboveTheBudget_ResourceLimitBeforeRunning_SmallerBatchFits()
    {
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { Bounds = Bounds, MaxMemoryBytes = 8L << 20 });

        var e = Assert.ThrowsExactly<ResourceLimitException>(() => explainer.Explain(Batch(64), Target.TopK(10)));
        Explanation fits = explainer.Explain(Batch(2));

        StringAssert.Contains(e.Message, "--max-memory");
        StringAssert.Contains(e.Message, "8 MiB");
        Assert.AreEqual(2, fits.Relevance.Shape[0]);
    }

    [TestMethod]
    public void Explain_TopKOfIntMaxWithABudget_RefusedNotOutOfMemory()
    {
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { MaxMemoryBytes = 1L << 30 });

        Assert.ThrowsExactly<InvalidTargetException>(() => explainer.Explain(Batch(1), Target.TopK(int.MaxValue)));
    }

    [TestMethod]
    [DataRow(0L)]
    [DataRow(-1L)]
    public void Load_NonPositiveBudget_InvalidOptions(long budget)
    {
        Assert.ThrowsExactly<InvalidOptionsException>(() => ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { MaxMemoryBytes = budget }));
    }

    [TestMethod]
    public void Cli_MaxMemoryTooSmall_ExitsTwo_AndEnoughSucceeds()
    {
        string[] args = ["explain", "--model", TestPaths.FashionVgg, "--input", TestPaths.Fixture("reference", "input.npy"), "--top-k", "10"];

        CliRun.Of([.. args, "--max-memory", "100k"]).AssertBadInput("--max-memory");
        CliRun.Of([.. args, "--max-memory", "64Mi"]).AssertSuccess();
        CliRun.Of([.. args, "--max-memory", "lots"]).AssertBadInput("--max-memory");
    }

    /// <summary>
    /// 2,000 explanations: batch sizes 1–4, LRP / CLRP1 / SGLRP, the predicted class, a fixed class and the top 3, all on
    /// one budgeted explainer per method (mixed-cnn). After a full collection, the process's working set at the end is within 10 %
    /// of the one after the first 200 (issue 12). Prints both, the peak and the managed heap.
    /// </summary>
    [TestMethod]
    public void Soak_TwoThousandMixedExplanations_WorkingSetFlatAfterTheFirst200()
    {
        ExplainMethod[] methods = [ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Sglrp];
        // mixed-cnn (residual, BN, pools, Concat; 28×28) rather than fashion-vgg: the same code paths at a fifth of the time.
        ClrpExplainer[] explainers = [.. methods.Select(m => ClrpExplainer.Load(TestPaths.Model("mixed-cnn.onnx"), new ExplainerOptions { Method = m, Bounds = Bounds, MaxMemoryBytes = 64L << 20 }))];
        Tensor[] batches = [.. Enumerable.Range(1, 4).Select(Batch)];
        Target[] targets = [Target.Predicted, Target.Class(3), Target.TopK(3)];
        long after200 = 0, managed200 = 0;
        var timer = Stopwatch.StartNew();
        try
        {
            for (int i = 0; i < 2000; i++)
            {
                Explanation e = explainers[i % 3].Explain(batches[(i / 3) % 4], targets[(i / 12) % 3]);
                Assert.IsTrue(e.Relevance.AllFinite());
                if (i == 199)
                {
                    (after200, managed200) = Settled();
                }
            }

            (long end, long managedEnd) = Settled();
            string figures = $"working set after 200: {after200 >> 20} MiB, after 2000: {end >> 20} MiB ({(end - after200) * 100.0 / after200:+0.0;-0.0} %); managed heap {managed200 >> 20} → {managedEnd >> 20} MiB; peak {Process.GetCurrentProcess().PeakWorkingSet64 >> 20} MiB; {timer.Elapsed.TotalSeconds:0.0} s";
            Console.WriteLine(figures);
            Assert.IsLessThanOrEqualTo(after200 * 1.10, (double)end, figures);
        }
        finally
        {
            foreach (ClrpExplainer explainer in explainers)
            {
                explainer.Dispose();
            }
        }
    }

    private static (long WorkingSet, long Managed) Settled()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        return (self.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
    }
}
