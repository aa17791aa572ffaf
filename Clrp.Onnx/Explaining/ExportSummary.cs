namespace Clrp.Onnx.Explaining;

/// <summary>What <see cref="ClrpExplainer.Export"/> wrote.</summary>
/// <param name="Path">The explainer model's path.</param>
/// <param name="InputName">The image input's name (its other input is <see cref="Compiling.CompiledNames.Targets"/>).</param>
/// <param name="ImageShape">The per-image input shape the graph is specialised to (the batch axis stays free).</param>
/// <param name="Classes">K, the model's classes.</param>
/// <param name="TargetsPerImage">k, the classes explained per image (the targets input is [N, k]).</param>
/// <param name="AddedNodes">Nodes the explanation added to the model.</param>
/// <param name="Bytes">The file's size.</param>
/// <param name="Method">The method.</param>
/// <param name="Rules">The composite's name, or "gradient".</param>
public sealed record ExportSummary(string Path, string InputName, int[] ImageShape, int Classes, int TargetsPerImage, int AddedNodes, long Bytes, ExplainMethod Method, string Rules);
