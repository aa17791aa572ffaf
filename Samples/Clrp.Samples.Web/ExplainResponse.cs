namespace Clrp.Samples.Web;

/// <summary>The JSON <c>POST /explain</c> returns: the model's view of the upload and, per class, the four heatmaps.</summary>
/// <param name="Model">The model file name.</param>
/// <param name="Width">Width of the model input (and of each map) in pixels.</param>
/// <param name="Height">Height of the model input.</param>
/// <param name="Input">The upload as the model sees it (resized, grey for a 1-channel model), a PNG data URL.</param>
/// <param name="Classes">The top-k classes, best first.</param>
/// <param name="Milliseconds">Time spent explaining (all methods, all classes).</param>
public sealed record ExplainResponse(string Model, int Width, int Height, string Input, IReadOnlyList<ExplainedClass> Classes, long Milliseconds);

/// <summary>One explained class.</summary>
/// <param name="Index">Class index in the model's output.</param>
/// <param name="Label">Its name.</param>
/// <param name="Probability">Softmax of the logits.</param>
/// <param name="Logit">The class score.</param>
/// <param name="Maps">Method name (lrp, clrp1, clrp2, sglrp) → heatmap PNG as a data URL, overlaid on the input.</param>
public sealed record ExplainedClass(int Index, string Label, float Probability, float Logit, IReadOnlyDictionary<string, string> Maps);

/// <summary>The JSON of a refused request.</summary>
public sealed record ExplainError(string Error);
