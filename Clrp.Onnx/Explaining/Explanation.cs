using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>Conservation check of one walked seed: what entered at the logits and what arrived at the input.</summary>
/// <param name="Image">Image index in the batch.</param>
/// <param name="Class">The explained class.</param>
/// <param name="Seed">"target" or "dual".</param>
/// <param name="SeedSum">Σ of the seed vector at the logits.</param>
/// <param name="InputSum">Σ of the relevance at the input; differs from SeedSum by what biases absorbed (ε) or stabilisers and dead units lost.</param>
public sealed record SeedDiagnostics(int Image, int Class, string Seed, double SeedSum, double InputSum);

/// <summary>
/// The result of one <see cref="ClrpExplainer.Explain(Tensor, Target?)"/> call. Shapes use N images, k
/// explained classes per image, and the input's per-image shape (C, H, W for images).
/// </summary>
public sealed class Explanation
{
    internal Explanation(ExplainMethod method, string rules, Tensor relevance, Tensor logits, int[] targetClasses, int targetsPerImage,
        Tensor? targetRelevance, Tensor? dualRelevance, Tensor? signedDifference, IReadOnlyList<SeedDiagnostics> diagnostics, string provider, Tensor? heatmap = null)
    {
        Method = method;
        Rules = rules;
        Relevance = relevance;
        Logits = logits;
        TargetClasses = targetClasses;
        TargetsPerImage = targetsPerImage;
        TargetRelevance = targetRelevance;
        DualRelevance = dualRelevance;
        SignedDifference = signedDifference;
        Diagnostics = diagnostics;
        ExecutionProvider = provider;
        Heatmap = heatmap ?? ChannelSum(relevance);
    }

    public ExplainMethod Method { get; }

    /// <summary>The composite's name ("paper", …), or "gradient" for the gradient baselines.</summary>
    public string Rules { get; }

    /// <summary>
    /// The method's final map, [N, k, …input shape]: R for LRP, SGLRP and the gradients; the CLRP map
    /// <c>max(0, R/ΣR − R̄/ΣR̄)</c> for CLRP1/CLRP2.
    /// </summary>
    public Tensor Relevance { get; }

    /// <summary>
    /// Channel sum of <see cref="Relevance"/>: [N, k, H, W] for image inputs (rank-4 models; the last axis for channels-last
    /// [N,H,W,C] inputs, recognised by the Transpose to NCHW that reads them); [N, k, …] otherwise.
    /// </summary>
    public Tensor Heatmap { get; }

    /// <summary>The explained tensor's values, [N, K].</summary>
    public Tensor Logits { get; }

    /// <summary>Explained classes, N·k, image-major.</summary>
    public IReadOnlyList<int> TargetClasses { get; }

    /// <summary>k, the number of classes explained per image.</summary>
    public int TargetsPerImage { get; }

    /// <summary>The first explained class of the first image.</summary>
    public int TargetClass => TargetClasses[0];

    /// <summary>CLRP only: the raw relevance R of the target seeds, [N, k, …].</summary>
    public Tensor? TargetRelevance { get; }

    /// <summary>CLRP only: the raw relevance R̄ of the dual seeds, [N, k, …].</summary>
    public Tensor? DualRelevance { get; }

    /// <summary>CLRP only: <c>R/ΣR − R̄/ΣR̄</c> before clipping at 0, [N, k, …].</summary>
    public Tensor? SignedDifference { get; }

    /// <summary>One entry per walked seed.</summary>
    public IReadOnlyList<SeedDiagnostics> Diagnostics { get; }

    /// <summary>ONNX Runtime's execution provider for the forward pass ("CPU" or "CUDA:id").</summary>
    public string ExecutionProvider { get; }

    /// <summary>The engine that computed it: "compiled" (one ONNX Runtime graph) or "managed" (the managed walk).</summary>
    public string Engine { get; internal init; } = "managed";

    /// <summary>Wall time of the forward run that captured the activations (the managed engine; 0 for the compiled graph, which runs as one).</summary>
    public TimeSpan ForwardTime { get; internal init; }

    /// <summary>Wall time of the backward walk (all seeds) and the final maps; for the compiled graph, the whole run.</summary>
    public TimeSpan WalkTime { get; internal init; }

    /// <summary>Where the time went, when <see cref="ExplainerOptions.Profile"/> is set; else null.</summary>
    public WalkProfile? Profile { get; internal init; }

    /// <summary>The explained class of image <paramref name="image"/>, rank <paramref name="index"/>.</summary>
    public int TargetClassOf(int image, int index = 0) => TargetClasses[(image * TargetsPerImage) + index];

    /// <summary>The 2-D heatmap of (image, index) as a row-major H×W array.</summary>
    public float[] HeatmapOf(int image, int index = 0)
    {
        int plane = Heatmap.Length / (Heatmap.Shape[0] * Heatmap.Shape[1]);
        return Heatmap.Data.AsSpan(((image * TargetsPerImage) + index) * plane, plane).ToArray();
    }

    /// <summary>The heatmap of a channels-last image input: [N, k, H, W, C] summed over C.</summary>
    internal static Tensor ChannelsLastSum(Tensor relevance)
    {
        int n = relevance.Shape[0], k = relevance.Shape[1], h = relevance.Shape[2], w = relevance.Shape[3], c = relevance.Shape[4];
        var heat = new Tensor(n, k, h, w);
        for (int p = 0; p < heat.Length; p++)
        {
            heat.Data[p] = System.Numerics.Tensors.TensorPrimitives.Sum(relevance.Data.AsSpan(p * c, c));
        }

        return heat;
    }

    private static Tensor ChannelSum(Tensor relevance)
    {
        // [N, k, C, H, W] → [N, k, H, W]; other ranks are returned as they are.
        if (relevance.Rank != 5)
        {
            return relevance;
        }

        int n = relevance.Shape[0], k = relevance.Shape[1], c = relevance.Shape[2], plane = relevance.Shape[3] * relevance.Shape[4];
        var heat = new Tensor(n, k, relevance.Shape[3], relevance.Shape[4]);
        for (int s = 0; s < n * k; s++)
        {
            Span<float> dest = heat.Data.AsSpan(s * plane, plane);
            for (int ch = 0; ch < c; ch++)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(dest, relevance.Data.AsSpan(((s * c) + ch) * plane, plane), dest);
            }
        }

        return heat;
    }
}
