using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>Which engine computes explanations (DESIGN §2: two engines over one plan).</summary>
public enum ExplainerEngine
{
    /// <summary>The compiled graph where the model compiles; the managed walk otherwise, with one log line saying why. The default.</summary>
    Auto,

    /// <summary>One ONNX graph (forward, relevance pass, maps) run by ONNX Runtime on its device; fails at load where it cannot compile.</summary>
    Compiled,

    /// <summary>ONNX Runtime for the forward pass, the managed walk for the rest: the reference implementation.</summary>
    Managed,
}

/// <summary>One way of computing explanations for a validated, non-empty, finite batch.</summary>
internal interface IExplanationEngine : IDisposable
{
    /// <summary>"compiled" or "managed".</summary>
    string Name { get; }

    /// <summary>ONNX Runtime's execution provider ("CPU" or "CUDA:id").</summary>
    string Provider { get; }

    /// <summary>Explains <paramref name="batch"/> ([N, …] as the model takes it).</summary>
    Explanation Explain(Tensor batch, Target target);
}
