using System.Collections.Concurrent;
using System.Diagnostics;

namespace Clrp.Onnx.Explaining;

/// <summary>One phase of preparing an explainer and its wall time.</summary>
/// <param name="Phase">"read" (file to graph), "plan", "shapes" (the shape probe), "compile", "session" (ONNX Runtime), …</param>
/// <param name="Time">Wall time.</param>
public sealed record LoadPhase(string Phase, TimeSpan Time);

/// <summary>Collects <see cref="LoadPhase"/>s, in order; thread-safe.</summary>
internal sealed class LoadTimes
{
    private readonly ConcurrentQueue<LoadPhase> _phases = new();

    public IReadOnlyList<LoadPhase> Phases => [.. _phases];

    /// <summary>Runs <paramref name="work"/> and records its time as <paramref name="phase"/>.</summary>
    public T Time<T>(string phase, Func<T> work)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            _phases.Enqueue(new LoadPhase(phase, Stopwatch.GetElapsedTime(started)));
        }
    }
}
