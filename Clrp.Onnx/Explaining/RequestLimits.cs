namespace Clrp.Onnx.Explaining;

/// <summary>
/// Checks of an explanation request made before anything is sized by it: <c>--top-k 2147483647</c> used to allocate k
/// target slots per image (an OutOfMemoryException) before <see cref="Target"/> compared k with the number of classes,
/// and the compiled engine builds a graph per k.
/// </summary>
internal static class RequestLimits
{
    /// <param name="target">The request.</param>
    /// <param name="classes">K, asked only when more than one class per image is requested (it may run the shape probe); null when unknown.</param>
    /// <exception cref="InvalidTargetException">More classes asked for per image than the model has.</exception>
    public static void CheckTargets(Target target, Func<int?> classes)
    {
        if (target.Count > 1 && classes() is int k && target.Count > k)
        {
            throw new InvalidTargetException($"top-k {target.Count} exceeds the model's {k} classes; ask for at most {k}.");
        }
    }
}
