using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// After Dispose every public member throws <see cref="ObjectDisposedException"/> and nothing touches the released
/// ONNX Runtime session (issue 12, item 4: Explain after Dispose used to die with SIGSEGV in 3 of 8 runs); a Dispose
/// racing explanations on other threads waits for them.
/// </summary>
[TestClass]
public sealed class DisposalTests
{
    private static Tensor Input => NpyFile.Read(TestPaths.Fixture("reference", "input.npy"));

    [TestMethod]
    public void Explainer_EveryPublicMemberAfterDispose_ThrowsObjectDisposed()
    {
        var explainer = ClrpExplainer.Load(TestPaths.FashionVgg);
        Tensor x = Input;
        explainer.Dispose();
        explainer.Dispose();

        var members = new (string Name, Action Call)[]
        {
            ("Explain(Tensor)", () => explainer.Explain(x)),
            ("Explain(float[])", () => explainer.Explain(x.Data, x.Shape, 9)),
            ("Input", () => _ = explainer.Input),
            ("LogitsName", () => _ = explainer.LogitsName),
            ("Options", () => _ = explainer.Options),
            ("ExecutionProvider", () => _ = explainer.ExecutionProvider),
            ("Nodes", () => _ = explainer.Nodes),
        };
        foreach ((string name, Action call) in members)
        {
            var e = Assert.ThrowsExactly<ObjectDisposedException>(call, name);
            StringAssert.Contains(e.Message, nameof(ClrpExplainer), name);
        }
    }

    /// <summary>Dedicated threads, not the thread pool: four looping pool tasks starved the test host's pool.</summary>
    [TestMethod]
    public void Explainer_DisposeWhileOtherThreadsExplain_EachCallCompletesOrSaysDisposed()
    {
        Tensor x = Input;
        int total = 0;
        for (int round = 0; round < 8; round++)
        {
            var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { Method = round % 2 == 0 ? ExplainMethod.Clrp1 : ExplainMethod.Lrp });
            int completed = 0, refused = 0;
            using var started = new CountdownEvent(4);
            Thread[] workers = [.. Enumerable.Range(0, 4).Select(_ => new Thread(() =>
            {
                started.Signal();
                while (true)
                {
                    try
                    {
                        Explanation e = explainer.Explain(x);
                        Assert.AreEqual(9, e.TargetClass);
                        Interlocked.Increment(ref completed);
                    }
                    catch (ObjectDisposedException)
                    {
                        Interlocked.Increment(ref refused);
                        return;
                    }
                }
            }))];
            foreach (Thread t in workers)
            {
                t.Start();
            }

            started.Wait();
            Thread.Sleep(20 + (round * 5));
            explainer.Dispose();
            foreach (Thread t in workers)
            {
                t.Join();
            }

            Assert.AreEqual(4, refused, $"round {round}: every worker ends on ObjectDisposedException");
            total += completed;
        }

        Assert.IsGreaterThan(0, total, "some explanations completed before the disposals");
    }

    [TestMethod]
    public void Runners_AfterDispose_ThrowObjectDisposed()
    {
        var runner = ModelRunner.Open(TestPaths.FashionVgg, Device.Cpu);
        var values = ValueRunner.Open(TestPaths.FashionVgg, "probabilities", Device.Cpu);
        Tensor x = Input;
        Assert.AreEqual(10, runner.Run(x).Length);
        Assert.AreEqual(10, values.Run(x).Length);
        runner.Dispose();
        values.Dispose();
        values.Dispose();

        Assert.ThrowsExactly<ObjectDisposedException>(() => runner.Run(x));
        Assert.ThrowsExactly<ObjectDisposedException>(() => values.Run(x));
        Assert.ThrowsExactly<ObjectDisposedException>(() => _ = values.Provider);
    }
}
