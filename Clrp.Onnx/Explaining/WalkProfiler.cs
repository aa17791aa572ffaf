using System.Diagnostics;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// Collects <see cref="StepTiming"/>s during a walk. The walker names the node being propagated
/// (<see cref="Enter"/>); the rule engine splits its time into steps with <see cref="Add"/>. Time a node
/// spends outside the named steps is recorded as "elementwise" (linear nodes) or "total" (others).
/// One walk at a time: the walk is sequential.
/// </summary>
internal sealed class WalkProfiler
{
    private readonly List<StepTiming> _steps = [];
    private string _node = string.Empty;
    private string _opType = string.Empty;
    private long _entered;
    private TimeSpan _inSteps;

    public IReadOnlyList<StepTiming> Steps => _steps;

    public void Enter(string node, string opType)
    {
        _node = node;
        _opType = opType;
        _inSteps = TimeSpan.Zero;
        _entered = Stopwatch.GetTimestamp();
    }

    /// <summary>Records a named step of the current node.</summary>
    public void Add(string step, long startedTimestamp)
    {
        TimeSpan elapsed = Stopwatch.GetElapsedTime(startedTimestamp);
        _inSteps += elapsed;
        _steps.Add(new StepTiming(_node, _opType, step, elapsed));
    }

    /// <summary>Closes the current node: the time not covered by named steps becomes "elementwise" or "total".</summary>
    public void Leave()
    {
        TimeSpan rest = Stopwatch.GetElapsedTime(_entered) - _inSteps;
        _steps.Add(new StepTiming(_node, _opType, _inSteps > TimeSpan.Zero ? "elementwise" : "total", rest));
    }
}
