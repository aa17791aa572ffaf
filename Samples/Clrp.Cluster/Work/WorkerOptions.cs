using Clrp.Batch;
using Clrp.Onnx.Execution;

namespace Clrp.Cluster.Work;

/// <summary>How a silo's workers explain.</summary>
public sealed class WorkerOptions
{
    /// <summary>Worker loops on this silo; they share the silo's explainers (one per model and settings).</summary>
    public int Workers { get; set; } = 1;

    /// <summary>Inputs per forward pass and backward walk; the lease is renewed after each.</summary>
    public int BatchSize { get; set; } = 8;

    /// <summary>Where ONNX Runtime runs on this silo.</summary>
    public Device Device { get; set; } = Device.Cpu;

    /// <summary>How long an idle worker waits before asking for work again.</summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Called with each input just before a worker reads it. For fault-injection tests (an input that hangs or kills a
    /// worker); null in normal use.
    /// </summary>
    public Action<ManifestEntry, CancellationToken>? BeforeInput { get; set; }
}
