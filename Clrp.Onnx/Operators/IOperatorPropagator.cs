using Clrp.Onnx.Algebra;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The backward step of one node: maps the relevance of its outputs to relevance of its inputs, written once over the
/// <see cref="IRelevanceAlgebra"/> so that the managed walk computes it and the compiler emits it. An instance is created
/// per node at load time (after validation), so it may hold the node's constant parameters and caches (geometry per input
/// shape); it must be safe to call from several threads.
/// </summary>
internal interface IOperatorPropagator
{
    /// <summary>Values (by name) this node reads from the forward pass.</summary>
    IEnumerable<string> RequiredValues { get; }

    /// <summary>True for Conv/Gemm/MatMul: the composite assigns such nodes a rule.</summary>
    bool IsLinear { get; }

    /// <summary>
    /// Input relevance per input of the node, null where an input gets none (constants, shapes).
    /// <paramref name="outputRelevance"/> has one entry per output, null where none arrived.
    /// </summary>
    RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan);
}

/// <summary>A linear layer's propagator: its kernel and parameters, which the capture run's denominators also need.</summary>
internal interface ILinearPropagator : IOperatorPropagator
{
    /// <summary>The name of the activation the layer multiplies.</summary>
    string InputName { get; }

    /// <summary>The kernel for an input of row shape <paramref name="inputRow"/>, and the layer's weights and bias.</summary>
    (Kernels.ILinearKernel Kernel, Rules.LinearLayer Layer) KernelFor(int[] inputRow);

    /// <summary>The layer's weights and bias.</summary>
    Rules.LinearLayer Layer { get; }
}
