using System.CommandLine;
using System.Globalization;
using Clrp.Onnx;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli;

/// <summary>
/// <c>clrp compare</c>: relative L2 error and largest absolute difference between two float32 .npy maps of the
/// same shape (e.g. CUDA vs CPU, or against a reference). Exit 0 when the relative error is within the tolerance,
/// 1 when it is not, 2 on bad input (missing file, different shapes).
/// </summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var expected = new Option<string>("--expected") { Description = "The reference map (.npy, float32).", Required = true, HelpName = "a.npy" };
        var actual = new Option<string>("--actual") { Description = "The map to check (.npy, float32, same shape).", Required = true, HelpName = "b.npy" };
        var tolerance = new Option<string>("--tolerance") { Description = "Largest accepted ‖actual − expected‖₂ / ‖expected‖₂.", DefaultValueFactory = _ => "1e-4", HelpName = "T" };
        var label = new Option<string>("--label") { Description = "A name printed with the result.", DefaultValueFactory = _ => "compare", HelpName = "TEXT" };
        var command = new Command("compare", "Compare two .npy maps: relative L2 error and max |difference|; exit 1 when above --tolerance.")
        {
            expected, actual, tolerance, label,
        };
        command.SetAction(p =>
        {
            Tensor a = NpyFile.Read(p.GetValue(expected)!);
            Tensor b = NpyFile.Read(p.GetValue(actual)!);
            if (!a.Shape.SequenceEqual(b.Shape))
            {
                throw new InvalidInputException($"'{p.GetValue(actual)}' has shape {b.ShapeText}; '{p.GetValue(expected)}' has {a.ShapeText}.");
            }

            double limit = NumberListParser.ParseFloat("--tolerance", p.GetValue(tolerance)!);
            double diff = 0, norm = 0, maxAbs = 0;
            for (int i = 0; i < a.Length; i++)
            {
                double d = b.Data[i] - (double)a.Data[i];
                diff += d * d;
                norm += (double)a.Data[i] * a.Data[i];
                maxAbs = Math.Max(maxAbs, Math.Abs(d));
            }

            double relative = norm == 0 ? Math.Sqrt(diff) : Math.Sqrt(diff / norm);
            bool ok = relative <= limit;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{p.GetValue(label)}: relative L2 {relative:E2}, max |Δ| {maxAbs:E2}, tolerance {limit:E1}: {(ok ? "ok" : "DIFFERS")}"));
            _ = stderr;
            return ok ? CliErrors.Success : CliErrors.Failure;
        });
        return command;
    }
}
