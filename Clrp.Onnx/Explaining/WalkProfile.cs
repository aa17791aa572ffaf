namespace Clrp.Onnx.Explaining;

/// <summary>Wall time of one step of one node in a backward walk.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="OpType">The node's operator.</param>
/// <param name="Step">
/// "denominators" (the forward products z of a linear rule: modified inputs times transformed weights),
/// "transposed" (the products Wᵀs that carry relevance to the input), "elementwise" (division by the
/// stabilised z, products with the modified input, sums), or "total" for operators that are not split.
/// </param>
/// <param name="Time">Summed over every call of that step in the walk (all relevance chunks).</param>
public sealed record StepTiming(string Node, string OpType, string Step, TimeSpan Time);

/// <summary>
/// Where the time of one explanation went (<see cref="ExplainerOptions.Profile"/>): the capture run, copying the
/// captured values to managed memory, and each node's steps of the backward walk.
/// </summary>
public sealed class WalkProfile
{
    internal WalkProfile(TimeSpan capture, IReadOnlyList<StepTiming> steps)
    {
        Capture = capture;
        Steps = steps;
    }

    /// <summary>The forward run on ONNX Runtime that produced the activations, copies included.</summary>
    public TimeSpan Capture { get; }

    /// <summary>Every timed step, in walk order (output to input).</summary>
    public IReadOnlyList<StepTiming> Steps { get; }

    /// <summary>Total time per (operator, step), largest first.</summary>
    public IReadOnlyList<(string OpType, string Step, TimeSpan Time)> ByOperator() =>
        Steps.GroupBy(s => (s.OpType, s.Step))
            .Select(g => (g.Key.OpType, g.Key.Step, TimeSpan.FromTicks(g.Sum(s => s.Time.Ticks))))
            .OrderByDescending(t => t.Item3)
            .ToList();
}
