namespace Clrp.Samples.MLNet;

/// <summary>
/// The sample's options: <c>[--images DIR] [--model M.onnx] [--out DIR] [--save-model P.zip | --load-model P.zip]</c>.
/// Defaults are the repository's shipped model and images, so the sample runs from the root with no arguments.
/// </summary>
public sealed record SampleArguments(string Images, string Model, string Output, string? SaveModel, string? LoadModel)
{
    public static SampleArguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["--images"] = "models/samples",
            ["--model"] = "models/fashion-vgg.onnx",
            ["--out"] = "out/mlnet",
        };
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected '--name value' pairs (--images, --model, --out, --save-model, --load-model); got '{args[i]}'.");
            }

            values[args[i]] = args[i + 1];
        }

        string[] known = ["--images", "--model", "--out", "--save-model", "--load-model"];
        string? unknown = values.Keys.FirstOrDefault(k => !known.Contains(k));
        if (unknown is not null)
        {
            throw new ArgumentException($"unknown option '{unknown}'; known: {string.Join(", ", known)}.");
        }

        return new SampleArguments(values["--images"], values["--model"], values["--out"], values.GetValueOrDefault("--save-model"), values.GetValueOrDefault("--load-model"));
    }
}
