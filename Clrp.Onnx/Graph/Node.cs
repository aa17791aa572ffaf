namespace Clrp.Onnx.Graph;

/// <summary>
/// One operator application in an <see cref="OnnxGraph"/>. Immutable. <see cref="Name"/> is unique
/// within the graph (generated when the file left it empty or repeated it). Missing optional inputs
/// are empty strings, as in ONNX.
/// </summary>
public sealed class Node
{
    public Node(string name, string opType, string domain, long opset, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, NodeAttributes attributes)
    {
        Name = name;
        OpType = opType;
        Domain = domain;
        Opset = opset;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
    }

    public string Name { get; }

    public string OpType { get; }

    /// <summary>Operator domain; "" for the default ai.onnx domain.</summary>
    public string Domain { get; }

    /// <summary>The opset version imported for this node's domain.</summary>
    public long Opset { get; }

    public IReadOnlyList<string> Inputs { get; }

    public IReadOnlyList<string> Outputs { get; }

    public NodeAttributes Attributes { get; }

    /// <summary>The input at <paramref name="index"/>, or "" when it is absent.</summary>
    public string Input(int index) => index < Inputs.Count ? Inputs[index] : string.Empty;

    /// <summary>A copy with other inputs/outputs (canonizers rewire nodes this way).</summary>
    public Node With(IReadOnlyList<string>? inputs = null, IReadOnlyList<string>? outputs = null, string? opType = null, NodeAttributes? attributes = null) =>
        new(Name, opType ?? OpType, Domain, Opset, inputs ?? Inputs, outputs ?? Outputs, attributes ?? Attributes);

    /// <summary>"name (OpType)" for messages.</summary>
    public override string ToString() => $"{Name} ({OpType})";
}
