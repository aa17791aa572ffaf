using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Explaining;

/// <summary>Options of a <see cref="ClrpExplainer"/>; every property has a documented default.</summary>
public sealed class ExplainerOptions
{
    /// <summary>The attribution method. Default: <see cref="ExplainMethod.Clrp1"/>.</summary>
    public ExplainMethod Method { get; init; } = ExplainMethod.Clrp1;

    /// <summary>Which rule each linear layer gets. Default: <see cref="Composites.Composites.Paper"/> with <see cref="Bounds"/>.</summary>
    public Composite? Rules { get; init; }

    /// <summary>
    /// Box bounds of the first linear layer's input for the default composite (z^B). Default: null, which
    /// uses the per-channel minimum and maximum of the input being explained.
    /// </summary>
    public BoxBounds? Bounds { get; init; }

    /// <summary>
    /// Which engine computes explanations: <see cref="ExplainerEngine.Auto"/> (default) runs the compiled graph and falls
    /// back to the managed walk, with one log line, where a model cannot be compiled; <see cref="ExplainerEngine.Compiled"/>
    /// and <see cref="ExplainerEngine.Managed"/> force one.
    /// </summary>
    public ExplainerEngine Engine { get; init; } = ExplainerEngine.Auto;

    /// <summary>
    /// A folder where compiled graphs (and ONNX Runtime's optimised form of them, on the CPU) are kept between processes,
    /// keyed by the model's content and everything the graph is fixed to: a later process explaining with the same model
    /// and options starts from the cache instead of compiling and optimising again. Default: null, no cache (the CLI uses a
    /// user cache folder unless told <c>--cache-dir none</c>).
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// Where ONNX Runtime runs: the compiled graph (forward, relevance pass and maps), or the managed engine's forward pass.
    /// Default: <see cref="Device.Cpu"/>.
    /// </summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>CLRP1's dual seed. Default: <see cref="DualSeed.Uniform"/>.</summary>
    public DualSeed DualSeed { get; init; } = DualSeed.Uniform;

    /// <summary>
    /// The tensor to explain. Default: null = the first graph output, or the input of the Softmax/LogSoftmax
    /// that produces it (the logits). Name another value to explain, e.g., a featurizer's pooled output.
    /// </summary>
    public string? OutputName { get; init; }

    /// <summary>Receives informational messages (CUDA fallback, rule warnings). Default: none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Memory budget of one backward walk in bytes. Seeds (images × classes × target/dual) are walked in
    /// chunks that fit it. Default: 2 GiB.
    /// </summary>
    public long MaxWalkBytes { get; init; } = 2L << 30;

    /// <summary>
    /// Memory budget of one explanation in bytes, covering the captured activations (ONNX Runtime's outputs and their
    /// copies), the maps and a walk row; a request whose estimate exceeds it throws <see cref="ResourceLimitException"/>
    /// before anything is allocated. With a budget the buffer pool keeps at most a quarter of it between explanations
    /// and ONNX Runtime's CPU arena is shrunk after every run. Default: null (no budget; the arena keeps its peak).
    /// </summary>
    public long? MaxMemoryBytes { get; init; }

    /// <summary>
    /// Record where each explanation's time goes (<see cref="Explanation.Profile"/>): the capture run and every
    /// node's steps of the walk. Costs one timestamp per step. Default: false.
    /// </summary>
    public bool Profile { get; init; }

    /// <summary>
    /// Compute the convolution rules' denominators in the capture run (<see cref="ForwardDenominators"/>). Default:
    /// true; tests switch it off to compare with the walk's own kernels.
    /// </summary>
    internal bool DenominatorsInCapture { get; init; } = true;

    /// <summary>The composite in effect: <see cref="Rules"/> or the paper's rules with <see cref="Bounds"/>.</summary>
    public Composite EffectiveRules => Rules ?? Composites.Composites.Paper(Bounds);
}
