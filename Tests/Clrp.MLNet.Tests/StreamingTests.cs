using System.Diagnostics;
using Clrp.MLNet.Tests.Support;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet.Tests;

/// <summary>Rows are explained lazily, in mini-batches, with memory that does not grow with the number of rows.</summary>
[TestClass]
public sealed class StreamingTests
{
    private const int Rows = 10_000;
    private static string _tiny = "";

    public TestContext TestContext { get; set; } = null!;

    [ClassInitialize]
    public static void WriteModel(TestContext context) => _tiny = TinyModel.Write();

    [ClassCleanup]
    public static void DeleteModel() => File.Delete(_tiny);

    [TestMethod]
    public void Enumerate_TenThousandRows_ManagedMemoryStaysFlat()
    {
        var ml = new MLContext(seed: 0);
        var produced = new Counter();
        IDataView data = ml.Data.LoadFromEnumerable(Generate(Rows, produced));
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(TinyOptions()).Fit(ml.Data.LoadFromEnumerable(Generate(1, new Counter())));
        IDataView output = explainer.Transform(data);
        Assert.AreEqual(0, produced.Value, "Transform must not read rows");

        long before = GC.GetTotalMemory(forceFullCollection: true);
        long atThousand = 0, peak = 0;
        int seen = 0;
        foreach (TinyExplained row in ml.Data.CreateEnumerable<TinyExplained>(output, reuseRowObject: true))
        {
            Assert.AreEqual(seen, row.Id);
            seen++;
            if (seen % 1000 == 0)
            {
                long now = GC.GetTotalMemory(forceFullCollection: true);
                peak = Math.Max(peak, now);
                atThousand = seen == 1000 ? now : atThousand;
            }
        }

        Assert.AreEqual(Rows, seen);
        long growth = peak - atThousand;
        TestContext.WriteLine($"{Rows} rows of [1,8,8]: managed heap {before / 1024} KiB before, {atThousand / 1024} KiB after 1,000 rows, peak {peak / 1024} KiB; growth from 1,000 to 10,000 rows {growth / 1024} KiB; process peak working set {Process.GetCurrentProcess().PeakWorkingSet64 >> 20} MiB.");
        Assert.IsLessThan(2L << 20, growth, $"managed memory grew by {growth} bytes between 1,000 and 10,000 rows");
    }

    [TestMethod]
    public void Enumerate_ReadsRowsOneMiniBatchAhead()
    {
        var ml = new MLContext(seed: 0);
        var produced = new Counter();
        IDataView data = ml.Data.LoadFromEnumerable(Generate(1000, produced));
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(TinyOptions(o => o.BatchSize = 16)).Fit(data);
        using var enumerator = ml.Data.CreateEnumerable<TinyExplained>(explainer.Transform(data), reuseRowObject: false).GetEnumerator();
        Assert.IsTrue(enumerator.MoveNext());
        Assert.IsLessThanOrEqualTo(16 + 1, produced.Value, "the first row must cost one mini-batch, not the data set");
    }

    [TestMethod]
    public void Enumerate_Cancelled_StopsWithinOneMiniBatch()
    {
        var ml = new MLContext(seed: 0);
        var produced = new Counter();
        using var cancel = new CancellationTokenSource();
        IDataView data = ml.Data.LoadFromEnumerable(Generate(1_000_000, produced));
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(TinyOptions(o => { o.BatchSize = 16; o.CancellationToken = cancel.Token; })).Fit(ml.Data.LoadFromEnumerable(Generate(1, new Counter())));
        int seen = 0;
        Assert.ThrowsExactly<OperationCanceledException>(() =>
        {
            foreach (TinyExplained _ in ml.Data.CreateEnumerable<TinyExplained>(explainer.Transform(data), reuseRowObject: true))
            {
                if (++seen == 100)
                {
                    cancel.Cancel();
                }
            }
        });
        Assert.AreEqual(100, seen, "no row after cancellation");
        Assert.IsLessThanOrEqualTo(100 + 16 + 1, produced.Value, "at most one mini-batch read ahead");
    }

    [TestMethod]
    public void Enumerate_OnlyPassThroughColumns_ExplainsNothing()
    {
        var ml = new MLContext(seed: 0);
        var produced = new Counter();
        IDataView data = ml.Data.LoadFromEnumerable(Generate(50, produced));
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(TinyOptions(o => o.InputColumnName = "x")).Fit(data);
        int[] ids = explainer.Transform(data).GetColumn<int>("Id").ToArray();
        CollectionAssert.AreEqual(Enumerable.Range(0, 50).ToArray(), ids);
    }

    private static ClrpExplainOptions TinyOptions(Action<ClrpExplainOptions>? edit = null)
    {
        var options = new ClrpExplainOptions { ModelPath = _tiny, Low = [-1f], High = [2f], BatchSize = 64 };
        edit?.Invoke(options);
        return options;
    }

    /// <summary>Rows made on demand, so the source itself holds nothing.</summary>
    private static IEnumerable<TinyFixedRow> Generate(int count, Counter produced)
    {
        for (int i = 0; i < count; i++)
        {
            produced.Value++;
            yield return new TinyFixedRow { Id = i, X = TinyModel.Image(i % 97) };
        }
    }

    private sealed class Counter
    {
        public int Value { get; set; }
    }
}
