namespace Clrp.Onnx.Explaining;

/// <summary>
/// Checks of an explanation request made as soon as the logits are known and before anything is sized by the
/// request: <c>--top-k 2147483647</c> used to allocate k target slots per image (an OutOfMemoryException) before
/// <see cref="Target"/> compared k with the number of classes.
/// </summary>
internal static class RequestLimits
{
    /// <exception cref="InvalidTargetException">More classes asked for per image than the model has.</exception>
    public static void CheckTargets(Target target, int classes)
    {
        if (target.Count > classes)
        {
            throw new InvalidTargetException($"top-k {target.Count} exceeds the model's {classes} classes; ask for at most {classes}.");
        }
    }
}
