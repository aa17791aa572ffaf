namespace Clrp.Onnx.Explaining;

/// <summary>Which class(es) to explain: a fixed class, the predicted class, the top-k classes, or one class per image.</summary>
public abstract record Target
{
    private Target()
    {
    }

    /// <summary>The arg-max of the logits, per image.</summary>
    public static Target Predicted { get; } = new PredictedTarget();

    /// <summary>Class <paramref name="index"/> for every image.</summary>
    public static Target Class(int index) => new ClassTarget(index);

    /// <summary>The <paramref name="k"/> highest-scoring classes of each image, best first.</summary>
    public static Target TopK(int k) => k >= 1 ? new TopKTarget(k) : throw new InvalidTargetException($"top-k needs k ≥ 1, got {k}.");

    /// <summary>One class per image, in batch order.</summary>
    public static Target PerImage(params int[] classes) => new PerImageTarget((int[])classes.Clone());

    public static implicit operator Target(int index) => Class(index);

    /// <summary>Number of classes explained per image.</summary>
    public int Count => this is TopKTarget t ? t.K : 1;

    /// <summary>The classes to explain for image <paramref name="image"/> given its logits; validates the range [0, K).</summary>
    internal int[] Resolve(int image, ReadOnlySpan<float> logits)
    {
        int classes = logits.Length;
        int[] chosen = this switch
        {
            ClassTarget c => [c.Index],
            PerImageTarget p => image < p.Classes.Length ? [p.Classes[image]] : throw new InvalidTargetException($"{p.Classes.Length} target classes given for a batch with more images (image {image} has none)."),
            PredictedTarget => [ArgMax(logits)],
            TopKTarget t => t.K <= classes ? TopIndices(logits, t.K) : throw new InvalidTargetException($"top-k {t.K} exceeds the model's {classes} classes."),
            _ => throw new InvalidOperationException(),
        };
        foreach (int c in chosen)
        {
            if (c < 0 || c >= classes)
            {
                throw new InvalidTargetException($"target class {c} is outside [0, {classes}) for a model with {classes} classes.");
            }
        }

        return chosen;
    }

    /// <summary>
    /// The targets as a compiled graph takes them (<see cref="Compiling.CompiledNames.Targets"/>): [1, k] for every image or
    /// [N, 1] per image, a class c as c and the class ranked r as −r; validated against K classes.
    /// </summary>
    internal (long[] Values, int Rows) Encode(int images, int classes)
    {
        switch (this)
        {
            case PredictedTarget:
                return ([-1], 1);
            case TopKTarget t:
                return t.K <= classes
                    ? (Enumerable.Range(1, t.K).Select(r => (long)-r).ToArray(), 1)
                    : throw new InvalidTargetException($"top-k {t.K} exceeds the model's {classes} classes.");
            case ClassTarget c:
                return ([Checked(c.Index, classes)], 1);
            case PerImageTarget p:
                if (p.Classes.Length < images)
                {
                    throw new InvalidTargetException($"{p.Classes.Length} target classes given for a batch with more images (image {p.Classes.Length} has none).");
                }

                return (p.Classes.Take(images).Select(c => (long)Checked(c, classes)).ToArray(), images);
            default:
                throw new InvalidOperationException();
        }
    }

    private static int Checked(int c, int classes) =>
        c >= 0 && c < classes ? c : throw new InvalidTargetException($"target class {c} is outside [0, {classes}) for a model with {classes} classes.");

    private static int ArgMax(ReadOnlySpan<float> v) => TopIndices(v, 1)[0];

    private static int[] TopIndices(ReadOnlySpan<float> v, int k)
    {
        float[] copy = v.ToArray();
        return Enumerable.Range(0, copy.Length).OrderByDescending(i => copy[i]).ThenBy(i => i).Take(k).ToArray();
    }

    private sealed record PredictedTarget : Target
    {
        public override string ToString() => "predicted";
    }

    private sealed record ClassTarget(int Index) : Target
    {
        public override string ToString() => $"class {Index}";
    }

    private sealed record TopKTarget(int K) : Target
    {
        public override string ToString() => $"top-{K}";
    }

    private sealed record PerImageTarget(int[] Classes) : Target
    {
        public override string ToString() => $"classes [{string.Join(',', Classes)}]";
    }
}
