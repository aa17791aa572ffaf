// libFuzzer entry point (scripts/fuzz.sh): the target is named by CLRP_FUZZ_TARGET, since libfuzzer-dotnet passes one
// argument (the assembly) to the process it starts. With "--replay FILE…" it runs files once, without libFuzzer.
using Clrp.Fuzz;

string target = Environment.GetEnvironmentVariable("CLRP_FUZZ_TARGET") ?? (args.Length > 0 && args[0] != "--replay" ? args[0] : "");
if (!FuzzTargets.Names.Contains(target))
{
    Console.Error.WriteLine($"set CLRP_FUZZ_TARGET to one of {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}

int replay = Array.IndexOf(args, "--replay");
if (replay >= 0)
{
    foreach (string file in args[(replay + 1)..])
    {
        FuzzTargets.Run(target, File.ReadAllBytes(file));
    }

    return 0;
}

SharpFuzz.Fuzzer.LibFuzzer.Run(data => FuzzTargets.Run(target, data));
return 0;
