using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The backward step of one node: maps the relevance of its outputs to relevance of its inputs.
/// An instance is created per node at load time (after validation), so it may hold the node's
/// constant parameters and caches; it must be safe to call from several threads.
/// </summary>
internal interface IOperatorPropagator
{
    /// <summary>Values (by name) this node reads from the forward pass.</summary>
    IEnumerable<string> RequiredValues { get; }

    /// <summary>True for Conv/Gemm/MatMul: the composite assigns such nodes a rule.</summary>
    bool IsLinear { get; }

    /// <summary>
    /// Input relevance per input of the node ([rows, …input shape]), null where an input gets none
    /// (constants, shapes). <paramref name="outputRelevance"/> has one entry per output, null where none arrived.
    /// </summary>
    Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context);
}
