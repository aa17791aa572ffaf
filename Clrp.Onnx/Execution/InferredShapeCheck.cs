using Clrp.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Execution;

/// <summary>
/// Validation at load from ONNX Runtime's shape inference (run when the session is created, on the model's declared
/// input shape): a captured value inferred to be empty — a Conv kernel larger than a fixed input, pads that eat the
/// picture — means every run would fail or explain nothing, so the model is refused before any input is read, naming
/// the node that makes the value. Dynamic dimensions (-1) are left to <see cref="OrtFailures"/> at run time.
/// </summary>
internal static class InferredShapeCheck
{
    /// <exception cref="InvalidGraphException">ORT inferred a dimension of 0 for one of <paramref name="values"/>.</exception>
    public static void Check(InferenceSession session, IReadOnlyList<string> values, ModelProto model, string source, string inputShape)
    {
        foreach (string value in values)
        {
            if (!session.OutputMetadata.TryGetValue(value, out NodeMetadata? meta) || !meta.IsTensor)
            {
                continue;
            }

            int[] dims = meta.Dimensions;
            if (Array.IndexOf(dims, 0) < 0)
            {
                continue;
            }

            int index = model.Graph.Node.ToList().FindIndex(n => n.Output.Contains(value));
            NodeProto? node = index < 0 ? null : model.Graph.Node[index];
            string named = node is null ? $"value '{value}'" : $"node '{(string.IsNullOrEmpty(node.Name) ? $"{node.OpType}_{index}" : node.Name)}' ({node.OpType})";
            string shape = "[" + string.Join(',', dims.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
            throw new InvalidGraphException($"{source}: {named} makes '{value}' empty, shape {shape}, for the declared input {inputShape} (ONNX Runtime's shape inference); its kernel, pads, strides or dilations do not fit its input.");
        }
    }
}
