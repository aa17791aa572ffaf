using System.Diagnostics;
using System.Globalization;
using Clrp.Onnx;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli;

/// <summary>Runs <c>clrp bench</c> and prints its table.</summary>
internal static class BenchRunner
{
    public static int Run(BenchRequest request, TextWriter stdout, TextWriter stderr)
    {
        void Log(string message) => CliErrors.Info(stderr, message);
        Tensor one = LoadOrMakeInput(request);
        Tensor batch = Repeat(one, request.Batch);
        var rows = new List<(string Name, Timing Time, string Note)>();

        using (ModelRunner runner = ModelRunner.Open(request.ModelPath, request.Device, Log))
        {
            rows.Add(("forward (plain ORT)", Measure(request, () => runner.Run(one)), runner.Provider));
            rows.Add(($"forward ×{request.Batch} (plain ORT)", Measure(request, () => runner.Run(batch)).PerItem(request.Batch), "per image"));
        }

        var profiles = new List<(ExplainMethod Method, WalkProfile Profile)>();
        var summaries = new List<EngineSummary>();
        Timing? capture = null;
        foreach (ExplainerEngine engine in request.Engines)
        {
            string tag = request.Engines.Length > 1 ? $" [{engine.ToString().ToLowerInvariant()}]" : string.Empty;
            var perMethod = new Dictionary<ExplainMethod, Timing>();
            Timing? topK = null, batched = null;
            int k = 0;
            foreach (ExplainMethod method in request.Methods)
            {
                long loadStart = Stopwatch.GetTimestamp();
                using ClrpExplainer explainer = ClrpExplainer.Load(request.ModelPath, new ExplainerOptions
                {
                    Method = method, Device = request.Device, Log = Log, Profile = request.Profile && engine == ExplainerEngine.Managed, Rules = request.Rules, Engine = engine,
                });
                double load = Stopwatch.GetElapsedTime(loadStart).TotalMilliseconds;
                var forwardTimes = new List<double>();
                WalkProfile? lastProfile = null;
                Timing t = Measure(request, () =>
                {
                    Explanation e = explainer.Explain(one);
                    forwardTimes.Add(e.ForwardTime.TotalMilliseconds);
                    lastProfile = e.Profile;
                });
                if (lastProfile is not null)
                {
                    profiles.Add((method, lastProfile));
                }

                perMethod[method] = t;
                if (engine == ExplainerEngine.Managed)
                {
                    capture ??= Timing.Of(forwardTimes.Skip(request.Warmup).ToList());
                }

                string phases = string.Join(", ", explainer.LoadTimes.Select(ph => string.Create(CultureInfo.InvariantCulture, $"{ph.Phase} {ph.Time.TotalMilliseconds:F0}")));
                rows.Add(($"{method.ToName()}{tag}, load", Timing.Of([load]), $"ClrpExplainer.Load ({explainer.Engine} engine: {phases} ms)"));
                rows.Add(($"{method.ToName()}{tag}, first", Timing.Of([t.First]), "first explanation after loading"));
                rows.Add(($"{method.ToName()}{tag}", t, "one class"));
                if (method == request.Methods[0])
                {
                    int classes = explainer.Explain(one).Logits.Shape[1];
                    k = Math.Min(request.TopK, classes);
                    topK = Measure(request, () => explainer.Explain(one, Target.TopK(k)));
                    rows.Add(($"{method.ToName()}{tag} top-{k}", topK, $"{k} classes, one walk"));
                    batched = Measure(request, () => explainer.Explain(batch)).PerItem(request.Batch);
                    rows.Add(($"{method.ToName()}{tag} ×{request.Batch}", batched, "per image"));
                }
            }

            summaries.Add(new EngineSummary(tag, perMethod, topK!, batched!, k));
        }

        if (capture is not null)
        {
            rows.Insert(2, ("capture (augmented model)", capture, "managed engine: activations copied"));
        }

        Print(stdout, request, rows, summaries, capture);
        foreach ((ExplainMethod method, WalkProfile profile) in profiles)
        {
            PrintProfile(stdout, method, profile);
        }

        return CliErrors.Success;
    }

    /// <summary>One engine's timings for the closing ratios.</summary>
    private sealed record EngineSummary(string Tag, Dictionary<ExplainMethod, Timing> PerMethod, Timing TopK, Timing Batched, int K);

    /// <summary>Where the last timed run of one method spent its time, by operator and step, largest first.</summary>
    private static void PrintProfile(TextWriter o, ExplainMethod method, WalkProfile profile)
    {
        double walk = profile.Steps.Sum(s => s.Time.TotalMilliseconds);
        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile of {method.ToName()} (last timed run): capture {profile.Capture.TotalMilliseconds:F1} ms, walk {walk:F1} ms"));
        o.WriteLine($"  {"operator",-20} {"step",-14} {"ms",9} {"% walk",7} {"nodes",6}");
        foreach ((string opType, string step, TimeSpan time) in profile.ByOperator())
        {
            int nodes = profile.Steps.Where(s => s.OpType == opType && s.Step == step).Select(s => s.Node).Distinct().Count();
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {opType,-20} {step,-14} {time.TotalMilliseconds,9:F1} {100 * time.TotalMilliseconds / walk,7:F1} {nodes,6}"));
        }
    }

    private static void Print(TextWriter o, BenchRequest request, List<(string Name, Timing Time, string Note)> rows, List<EngineSummary> summaries, Timing? capture)
    {
        double forward = rows[0].Time.Median;
        o.WriteLine($"model:   {request.ModelPath} (rules {request.Rules.Name})");
        o.WriteLine($"machine: {Environment.ProcessorCount} logical cores, {RuntimeInformationText()}; {request.Runs} timed runs per row after {request.Warmup} warm-ups");
        o.WriteLine();
        o.WriteLine($"{"row",-34} {"median ms",10} {"min",9} {"max",9} {"× forward",10}  note");
        foreach ((string name, Timing t, string note) in rows)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-34} {t.Median,10:F1} {t.Min,9:F1} {t.Max,9:F1} {t.Median / forward,10:F2}  {note}"));
        }

        ExplainMethod first = request.Methods[0];
        foreach (EngineSummary s in summaries)
        {
            o.WriteLine();
            if (s.PerMethod.TryGetValue(ExplainMethod.Lrp, out Timing? lrp))
            {
                foreach (ExplainMethod m in new[] { ExplainMethod.Clrp1, ExplainMethod.Clrp2 }.Where(s.PerMethod.ContainsKey))
                {
                    o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.ToName()}/lrp{s.Tag}:          {s.PerMethod[m].Median / lrp.Median:F2}"));
                }
            }

            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"top-{s.K}/one ({first.ToName()}){s.Tag}:   {s.TopK.Median / s.PerMethod[first].Median:F2}"));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batch-{request.Batch}/image ÷ batch-1 ({first.ToName()}){s.Tag}: {s.Batched.Median / s.PerMethod[first].Median:F2}"));
        }

        o.WriteLine();
        if (capture is not null)
        {
            o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"capture/forward:        {capture.Median / forward:F2}"));
        }

        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak memory:            {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB (process peak working set)"));
    }

    private static string RuntimeInformationText() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription.Trim()}, .NET {Environment.Version}";

    private static Tensor LoadOrMakeInput(BenchRequest request)
    {
        if (request.InputPath is not null)
        {
            Tensor t = NpyFile.Read(request.InputPath);
            return t.Rank == 3 ? t.Reshape([1, .. t.Shape]) : t;
        }

        Clrp.Onnx.Graph.ValueInfo input = ClrpExplainer.Inspect(request.ModelPath).Input;
        if (input.Dimensions is null || input.Dimensions.Skip(1).Any(d => d is null))
        {
            throw new InvalidOptionsException($"input '{input.Name}' has shape {input.ShapeText}; give --input x.npy for models with dynamic image sizes.");
        }

        int[] shape = [1, .. input.Dimensions.Skip(1).Select(d => (int)d!.Value)];
        var random = new Random(20181203);
        var data = new float[Tensor.CheckedCount(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            // Box–Muller: standard-normal noise, like a normalised image.
            data[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        return new Tensor(data, shape);
    }

    private static Tensor Repeat(Tensor one, int n)
    {
        var data = new float[one.Length * n];
        for (int i = 0; i < n; i++)
        {
            one.Data.CopyTo(data, i * one.Length);
        }

        return new Tensor(data, [n, .. one.Shape[1..]]);
    }

    private static Timing Measure(BenchRequest request, Action action)
    {
        // Start each row from a collected heap, so that garbage left by the previous row (a disposed explainer of a
        // large model) neither slows this one down nor inflates the peak it reports.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // Warm-ups: the first creates kernel sessions and pre-packs weights; the next ones let ONNX Runtime's arenas and the
        // explainer's buffer pool reach their steady size (VGG16, 2 vCPU: explanations 1–3 take 4.4, 1.1, 0.8 s, then
        // 0.65 s for as long as the process runs).
        double first = 0;
        for (int i = 0; i < request.Warmup; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            first = i == 0 ? Stopwatch.GetElapsedTime(start).TotalMilliseconds : first;
        }

        var times = new List<double>(request.Runs);
        for (int i = 0; i < request.Runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return Timing.Of(times) with { First = first };
    }

    /// <summary>Median, minimum and maximum of a set of wall times in milliseconds.</summary>
    private sealed record Timing(double Median, double Min, double Max)
    {
        /// <summary>The first (warm-up) run's time.</summary>
        public double First { get; init; }

        public static Timing Of(IReadOnlyList<double> ms)
        {
            double[] sorted = ms.Order().ToArray();
            double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
            return new Timing(median, sorted[0], sorted[^1]);
        }

        public Timing PerItem(int n) => new(Median / n, Min / n, Max / n);
    }
}
