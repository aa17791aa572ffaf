using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CsCheck;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// Properties over random small CNNs (CsCheck; <see cref="RandomCnn"/>): whatever graph of the supported operators,
/// (1) every method explains it without error and with finite maps; on bias-free nets (2) the paper rules conserve
/// ΣR_in = |z_j|, (3) LRP-0 (seed |z_j|) equals sign(z_j)·Gradient⊙Input, and (4) a batch equals its images one at a time. A failure
/// prints the graph (and CsCheck's seed to replay it). The properties run the managed engine, the reference; (5) the compiled
/// engine equals it on every graph (<see cref="AnyGraph_CompiledEqualsManaged"/>), whose first failure is kept as
/// <see cref="CompiledEngine_Clrp2TopTwoBatchOfTwo_ResidualNet"/>.
/// </summary>
[TestClass]
public sealed class RandomCnnPropertyTests
{
    // Enough graphs to meet every block kind several times, few enough for CI (each graph opens ORT sessions).
    private const int Graphs = 60;

    [TestMethod]
    public void AnyGraph_EveryMethod_FiniteMapsOfTheInputShape()
    {
        RandomCnn.Generator(bias: true).Sample(net =>
        {
            string model = ExplainerHarness.Save(net.Build());
            var x = new Tensor(net.Input(2), net.InputShape(2));
            foreach (ExplainMethod method in new[] { ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Clrp2, ExplainMethod.Sglrp, ExplainMethod.Gradient })
            {
                foreach (string rules in new[] { "paper", "epsilon-plus" })
                {
                    using var explainer = ClrpExplainer.Load(model, new ExplainerOptions { Method = method, Rules = Composites.Composites.ByName(rules), Engine = ExplainerEngine.Managed });
                    Explanation e = explainer.Explain(x, Target.TopK(2));
                    CollectionAssert.AreEqual(new[] { 2, 2, net.Channels, net.Size, net.Size }, e.Relevance.Shape, $"{net}: {method}/{rules}");
                    Assert.IsTrue(e.Relevance.AllFinite(), $"{net}: {method}/{rules} gave NaN/Inf");
                }
            }
        }, iter: Graphs / 3, threads: 1, print: n => n.ToString());
    }

    [TestMethod]
    public void BiasFreeGraph_PaperRules_Conserve()
    {
        RandomCnn.Generator(bias: false).Sample(net =>
        {
            using var explainer = ClrpExplainer.Load(ExplainerHarness.Save(net.Build()), new ExplainerOptions { Method = ExplainMethod.Lrp, Engine = ExplainerEngine.Managed });
            Explanation e = explainer.Explain(new Tensor(net.Input(1), net.InputShape(1)));
            SeedDiagnostics d = e.Diagnostics[0];
            if (e.Logits.Data[e.TargetClass] <= 0)
            {
                return; // z⁺ cannot place a seed on a logit that no positive contribution reaches.
            }

            Assert.AreEqual(d.SeedSum, d.InputSum, 1e-4 * Math.Abs(d.SeedSum), $"{net}: ΣR_in vs |z_j|");
        }, iter: Graphs, threads: 1, print: n => n.ToString());
    }

    [TestMethod]
    public void BiasFreeGraph_LrpZero_EqualsGradientTimesInput()
    {
        RandomCnn.Generator(bias: false).Sample(net =>
        {
            string model = ExplainerHarness.Save(net.Build());
            var x = new Tensor(net.Input(1), net.InputShape(1));
            using var lrp = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = Composites.Composites.ByName("epsilon", epsilon: 1e-12f), Engine = ExplainerEngine.Managed });
            using var gi = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.GradientInput, Engine = ExplainerEngine.Managed });
            Explanation r = lrp.Explain(x, 0);
            float z = r.Logits.Data[0];
            if (Math.Abs(z) < 1e-3)
            {
                return; // seed |z|, denominators ≈ z: the ratio is ill-conditioned near 0.
            }

            // LRP-0 with the seed |z_j| on a bias-free piecewise-linear net: R = x ⊙ ∂z_j/∂x · |z_j| / z_j.
            float[] expected = [.. gi.Explain(x, 0).Relevance.Data.Select(v => v * Math.Sign(z))];
            // Not exact where a residual Add or an average pool shares by a/stab(a + b): its Norm stabiliser (1e-6, DESIGN)
            // shifts small sums. Before the merge of main's faster relevance pass (86b00d9…) 300 random graphs with residual
            // blocks differed by at most 3.0e-4, all others by ≤ 1e-5; after it up to 2.4e-3 (avgpool + residual blocks,
            // reported to the lead as a possible precision change). 1e-2 still fails a wrong rule or route (errors ≥ 0.1).
            Compare.Close(r.Relevance.Data, expected, 1e-2, $"{net}: LRP-0 vs sign(z_0)·x⊙∂z_0/∂x");
        }, iter: Graphs, threads: 1, print: n => n.ToString());
    }

    [TestMethod]
    public void AnyGraph_BatchOfThree_EqualsEachImageAlone()
    {
        RandomCnn.Generator(bias: true).Sample(net =>
        {
            using var explainer = ClrpExplainer.Load(ExplainerHarness.Save(net.Build()), new ExplainerOptions { Method = ExplainMethod.Clrp1, Engine = ExplainerEngine.Managed });
            var batch = new Tensor(net.Input(3), net.InputShape(3));
            Explanation together = explainer.Explain(batch, Target.Class(1));
            for (int i = 0; i < 3; i++)
            {
                Explanation alone = explainer.Explain(new Tensor(batch.Row(i).ToArray(), net.InputShape(1)), Target.Class(1));
                Compare.Close(together.Relevance.Row(i), alone.Relevance.Data, 1e-5, $"{net}: image {i} in the batch vs alone");
            }
        }, iter: Graphs, threads: 1, print: n => n.ToString());
    }

    [TestMethod]
    public void AnyGraph_CompiledEqualsManaged()
    {
        RandomCnn.Generator(bias: true).Sample(net =>
        {
            string model = ExplainerHarness.Save(net.Build());
            var x = new Tensor(net.Input(2), net.InputShape(2));
            Explanation? lrp = null;
            foreach (ExplainMethod method in new[] { ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Clrp2, ExplainMethod.Sglrp, ExplainMethod.Gradient })
            {
                ExplainerOptions Options(ExplainerEngine engine) => new() { Method = method, Rules = Composites.Composites.ByName("epsilon-plus"), Engine = engine };
                using var compiled = ClrpExplainer.Load(model, Options(ExplainerEngine.Compiled));
                using var managed = ClrpExplainer.Load(model, Options(ExplainerEngine.Managed));
                Explanation reference = managed.Explain(x, Target.TopK(2));
                lrp = method == ExplainMethod.Lrp ? reference : lrp;
                Compiling.ParityHarness.Check(
                    reference, compiled.Explain(x, Target.TopK(2)), $"{net}: {method}", lrp: lrp,
                    alternative: () => managed.Explain(Compiling.ParityHarness.Perturbed(x), Target.TopK(2)));
            }
        }, iter: Graphs / 6, threads: 1, print: n => n.ToString());
    }

    /// <summary>
    /// Found by <see cref="AnyGraph_EveryMethod_FiniteMapsOfTheInputShape"/> on the default (compiled) engine, CsCheck seed
    /// 63AW5NCVDIZ1: CLRP2, paper rules, a batch of 2, top-2, on a residual net with biases — ONNX Runtime stops at the
    /// compiled graph's node 'clrp/add_node/115' ("Shape mismatch attempting to re-use buffer. {1,2} != {2,2}": a batch
    /// axis fixed at 1 somewhere in the emitted graph). Cause: the engine bound a top-k target row shared by the batch as
    /// [1,k] to the graph's [N,k] input, and ONNX Runtime's memory planner, which takes equal symbolic shapes for equal
    /// sizes, reused a buffer of one for the other. The engine now binds one row per image.
    /// </summary>
    [TestMethod]
    public void CompiledEngine_Clrp2TopTwoBatchOfTwo_ResidualNet()
    {
        var net = new RandomCnn(1, 7, [RandomCnn.Residual], 2, Bias: true, Seed: 8524);
        string model = ExplainerHarness.Save(net.Build());
        var x = new Tensor(net.Input(2), net.InputShape(2));
        using var compiled = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Clrp2, Engine = ExplainerEngine.Compiled });
        using var managed = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Clrp2, Engine = ExplainerEngine.Managed });

        Explanation c = compiled.Explain(x, Target.TopK(2)), m = managed.Explain(x, Target.TopK(2));

        Compare.Close(c.Relevance.Data, m.Relevance.Data, 1e-5, "compiled vs managed");
    }
    /// <summary>
    /// The same graph exported (<c>clrp export</c>) and run by a plain ONNX Runtime session, as a user of the file would: one
    /// target row [1,k] for a batch of two images, as the README allows.
    /// </summary>
    [TestMethod]
    public void ExportedGraph_OneTargetRowForTheBatch_ResidualNet()
    {
        var net = new RandomCnn(1, 7, [RandomCnn.Residual], 2, Bias: true, Seed: 8524);
        string model = ExplainerHarness.Save(net.Build());
        string exported = Path.Combine(Path.GetDirectoryName(model)!, "explain.onnx");
        Cli.CliRun.Of("export", "--model", model, "--method", "clrp2", "--top-k", "2", "--out", exported).AssertSuccess();
        var x = new Tensor(net.Input(2), net.InputShape(2));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(exported);
        var feeds = new[]
        {
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("x", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x.Data, x.Shape)),
            Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(Clrp.Onnx.Compiling.CompiledNames.Targets, new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>(new long[] { -1, -2 }, [1, 2])),
        };
        using var results = session.Run(feeds);
        float[] relevance = results.First(r => r.Name == Clrp.Onnx.Compiling.CompiledNames.Relevance).AsTensor<float>().ToArray();

        using var managed = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Clrp2, Engine = ExplainerEngine.Managed });
        Compare.Close(relevance, managed.Explain(x, Target.TopK(2)).Relevance.Data, 1e-5, "exported graph vs managed");
    }
}
