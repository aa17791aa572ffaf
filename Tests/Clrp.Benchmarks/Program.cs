using BenchmarkDotNet.Running;

// dotnet run -c Release --project Tests/Clrp.Benchmarks -- --filter '*'   (results land in BenchmarkDotNet.Artifacts/)
BenchmarkSwitcher.FromAssembly(typeof(Clrp.Benchmarks.ConvolutionKernelBenchmarks).Assembly).Run(args);
