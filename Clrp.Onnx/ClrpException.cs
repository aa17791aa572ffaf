namespace Clrp.Onnx;

/// <summary>
/// Base of every error ClrpMl reports about its inputs (model, tensors, images, options).
/// Messages name the file, node or column and what was expected; callers (the CLI) can show
/// <see cref="Exception.Message"/> as one line.
/// </summary>
public class ClrpException : Exception
{
    public ClrpException(string message) : base(message) { }

    public ClrpException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The model file is missing, unreadable, truncated or not an ONNX protobuf.</summary>
public sealed class ModelLoadException : ClrpException
{
    public ModelLoadException(string message) : base(message) { }

    public ModelLoadException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The ONNX graph is malformed (cycle, dangling input, missing weights) or is not an image classifier ClrpMl can explain.</summary>
public sealed class InvalidGraphException : ClrpException
{
    public InvalidGraphException(string message) : base(message) { }
}

/// <summary>A node uses an operator, domain, opset or attribute value that no propagator supports.</summary>
public sealed class UnsupportedOperatorException : ClrpException
{
    public UnsupportedOperatorException(string nodeName, string opType, string domain, long opset, string reason)
        : base($"node '{nodeName}' ({(string.IsNullOrEmpty(domain) ? "ai.onnx" : domain)}::{opType}, opset {opset}) is not supported: {reason}")
    {
        NodeName = nodeName;
        OpType = opType;
        Domain = domain;
        Opset = opset;
    }

    public string NodeName { get; }

    public string OpType { get; }

    public string Domain { get; }

    public long Opset { get; }
}

/// <summary>An input tensor or image has the wrong shape, type, or holds NaN/Inf.</summary>
public sealed class InvalidInputException : ClrpException
{
    public InvalidInputException(string message) : base(message) { }

    public InvalidInputException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The class to explain lies outside [0, K) or the request is otherwise inconsistent with the model's outputs.</summary>
public sealed class InvalidTargetException : ClrpException
{
    public InvalidTargetException(string message) : base(message) { }
}

/// <summary>Options that contradict each other or the model (bounds of the wrong length, a negative ε, …).</summary>
public sealed class InvalidOptionsException : ClrpException
{
    public InvalidOptionsException(string message) : base(message) { }
}

/// <summary>A .npy file is malformed or not float32 C-order.</summary>
public sealed class NpyFormatException : ClrpException
{
    public NpyFormatException(string message) : base(message) { }

    public NpyFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>An image file cannot be decoded or written.</summary>
public sealed class ImageFormatException : ClrpException
{
    public ImageFormatException(string message) : base(message) { }

    public ImageFormatException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The requested execution device (CUDA) cannot be used and falling back to the CPU was not allowed.</summary>
public sealed class DeviceUnavailableException : ClrpException
{
    public DeviceUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The request would need more memory than the explainer allows (many seeds × a large model).</summary>
public sealed class ResourceLimitException : ClrpException
{
    public ResourceLimitException(string message) : base(message) { }
}

/// <summary>
/// The compiled engine cannot express this model's explanation as one ONNX graph (an opset older than 7, a model whose
/// weights live in external files, a shape it cannot resolve); the message names the node and the reason. With the
/// default <see cref="Explaining.ExplainerEngine.Auto"/> the managed engine takes over instead.
/// </summary>
public sealed class CompilationException : ClrpException
{
    public CompilationException(string message) : base(message) { }

    public CompilationException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The rules produced ±Inf or NaN relevance for this input: a rule's denominators vanished along the way (the γ and ε rules
/// with a tiny stabiliser on signed activations can). The message names the model, method and rules; the map is not returned.
/// </summary>
public sealed class NonFiniteRelevanceException : ClrpException
{
    public NonFiniteRelevanceException(string message) : base(message) { }
}

/// <summary>
/// ONNX Runtime refused to run the model on this input: a node's shapes do not fit (a kernel larger than its input, a
/// channel-count mismatch, a Reshape that does not divide, an integer overflow in its attributes). The message names
/// the node of the model file, its operator and the input shape; <see cref="NodeName"/> is null when ONNX Runtime
/// named none.
/// </summary>
public sealed class ModelRunException : ClrpException
{
    public ModelRunException(string message, string? nodeName, string? opType, Exception inner) : base(message, inner)
    {
        NodeName = nodeName;
        OpType = opType;
    }

    /// <summary>The failing node as the model file names it (or its generated name), or null.</summary>
    public string? NodeName { get; }

    /// <summary>Its operator type, or null.</summary>
    public string? OpType { get; }
}
