using Clrp.Onnx;
using Clrp.Onnx.Graph;

namespace Clrp.Cli.Evaluation;

/// <summary>One step of the parameter-randomisation test.</summary>
/// <param name="Key">Its name in the results ("cascading-03", "independent-01", "random-logit").</param>
/// <param name="Mode">cascading, independent or random-logit.</param>
/// <param name="Index">1-based position within its mode, counted from the logits down.</param>
/// <param name="Layer">The layer this step randomises last (cascading) or alone (independent); "—" for random-logit.</param>
/// <param name="Parameters">The initializers re-drawn in this step (none for random-logit).</param>
internal sealed record RandomizationStep(string Key, string Mode, int Index, string Layer, IReadOnlyList<string> Parameters)
{
    public const string Cascading = "cascading";
    public const string Independent = "independent";
    public const string RandomLogit = "random-logit";

    /// <summary>The modes <c>--modes</c> accepts, in report order.</summary>
    public static IReadOnlyList<string> Modes { get; } = [Cascading, Independent, RandomLogit];

    /// <summary>
    /// Adebayo et al.'s steps over <paramref name="layers"/> (input → logits order): cascading randomises the top k layers for
    /// k = 1…L (top-down, cumulative); independent randomises each layer alone, top-down; random-logit keeps the model and
    /// explains a random class that is in neither object.
    /// </summary>
    public static IReadOnlyList<RandomizationStep> For(IReadOnlyList<ParameterLayer> layers, IReadOnlyList<string> modes)
    {
        var steps = new List<RandomizationStep>();
        int count = layers.Count;
        if (modes.Contains(Cascading))
        {
            for (int k = 1; k <= count; k++)
            {
                steps.Add(new RandomizationStep($"{Cascading}-{k:00}", Cascading, k, layers[count - k].Node, [.. layers.Skip(count - k).SelectMany(l => l.Parameters)]));
            }
        }

        if (modes.Contains(Independent))
        {
            for (int k = 1; k <= count; k++)
            {
                steps.Add(new RandomizationStep($"{Independent}-{k:00}", Independent, k, layers[count - k].Node, layers[count - k].Parameters));
            }
        }

        if (modes.Contains(RandomLogit))
        {
            steps.Add(new RandomizationStep(RandomLogit, RandomLogit, 1, "—", []));
        }

        return steps;
    }

    /// <summary>Parses <c>--modes</c>; throws naming the option and the known modes.</summary>
    public static IReadOnlyList<string> ParseModes(string text)
    {
        string[] names = [.. text.Split(',', StringSplitOptions.TrimEntries).Select(n => n.ToLowerInvariant()).Distinct()];
        foreach (string name in names)
        {
            if (!Modes.Contains(name))
            {
                throw new InvalidOptionsException($"--modes: unknown mode '{name}'; expected one or more of {string.Join(", ", Modes)}.");
            }
        }

        return names;
    }
}
