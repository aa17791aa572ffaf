using Clrp.Batch;
using Clrp.Onnx.Execution;

namespace Clrp.Cluster.Tests.Support;

/// <summary>
/// The job the cluster tests run: 200 scenes through fashion-pair-vgg (CLRP1, paper rules), and its single-machine
/// batch-mode output, written once per test run.
/// </summary>
internal static class ReferenceJob
{
    public const int Inputs = 200;

    private static readonly Lazy<(string Inputs, string Reference)> Folders = new(() =>
    {
        string inputs = TestInputs.WriteScenes(TestInputs.TempDir("inputs"), Inputs);
        string reference = TestInputs.TempDir("reference");
        BatchSummary summary = BatchJob.Run(Settings, inputs, reference, batchSize: 8, Device.Cpu, log: null, progress: null);
        Assert.AreEqual(Inputs, summary.Explained, "the reference batch run explains every input");
        return (inputs, reference);
    });

    /// <summary>fashion-pair-vgg, CLRP1, paper rules, the preprocessing of the pair models.</summary>
    public static BatchSettings Settings => new() { ModelPath = TestInputs.PairVgg, Mean = [0.1417f], Std = [0.2478f] };

    /// <summary>The folder of the 200 input pictures.</summary>
    public static string InputFolder => Folders.Value.Inputs;

    /// <summary>The batch-mode output folder the cluster must reproduce.</summary>
    public static string ReferenceFolder => Folders.Value.Reference;
}
