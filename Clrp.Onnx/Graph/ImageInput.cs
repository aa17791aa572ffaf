namespace Clrp.Onnx.Graph;

/// <summary>
/// The one policy for which input of a model is the image: exactly one float32 input with a batch axis and at least one
/// feature axis. The explainer, the value runner and the plain forward runner all ask here, so they never disagree.
/// </summary>
public static class ImageInput
{
    /// <summary>The model's image input; <see cref="InvalidGraphException"/> naming the file and its inputs otherwise.</summary>
    public static ValueInfo Find(OnnxGraph graph)
    {
        if (graph.Inputs.Count == 0)
        {
            throw new InvalidGraphException($"{graph.Source}: the graph has no input (every input is an initializer).");
        }

        var floats = graph.Inputs.Where(i => i.ElementType == ValueInfo.Float).ToList();
        if (floats.Count == 0)
        {
            throw new InvalidGraphException($"{graph.Source}: the graph has no float32 input; found {string.Join(", ", graph.Inputs.Select(i => $"'{i.Name}' ({i.ElementTypeName})"))}. ClrpMl explains models fed float32 tensors.");
        }

        if (graph.Inputs.Count > 1)
        {
            throw new InvalidGraphException($"{graph.Source}: the graph has {graph.Inputs.Count} inputs ({string.Join(", ", graph.Inputs.Select(i => $"'{i.Name}'"))}); ClrpMl explains models with one image input.");
        }

        ValueInfo input = floats[0];
        if (input.Dimensions is { Count: < 2 })
        {
            throw new InvalidGraphException($"{graph.Source}: input '{input.Name}' has shape {input.ShapeText}; expected a batch axis and at least one feature axis, e.g. [N,C,H,W].");
        }

        return input;
    }
}
