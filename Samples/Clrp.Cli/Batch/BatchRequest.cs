using Clrp.Batch;
using Clrp.Onnx.Execution;

namespace Clrp.Cli.Batch;

/// <summary>A validated batch-mode command line.</summary>
/// <param name="Settings">What every input gets (method, rules, bounds, target…).</param>
/// <param name="Inputs">--inputs.</param>
/// <param name="OutDir">--out-dir.</param>
/// <param name="BatchSize">--batch.</param>
/// <param name="Device">--device.</param>
/// <param name="CacheDirectory">--cache-dir resolved (compiled explainer graphs kept between runs), or null.</param>
internal sealed record BatchRequest(BatchSettings Settings, string Inputs, string OutDir, int BatchSize, Device Device, string? CacheDirectory);
