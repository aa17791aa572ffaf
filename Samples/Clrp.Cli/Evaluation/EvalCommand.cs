using System.CommandLine;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// <c>clrp eval</c>: the paper's evaluation on two-object scenes, as two subcommands. <c>pointing-game</c>: does
/// each class's map point at that class's object, and does it hold more relevance there than on the other object?
/// <c>ablation</c>: does removing the most relevant pixels first make the explained logit fall fastest?
/// </summary>
internal static class EvalCommand
{
    /// <summary>Builds <c>eval</c> with its subcommands, printing to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr) =>
        new("eval", "Evaluate explanation methods on two-object scenes: pointing game and class-discriminativeness, pixel ablation (AOPC), or the model-parameter randomisation sanity check.")
        {
            PointingGameCommand(stdout, stderr),
            AblationCommand(stdout, stderr),
            RandomizationCommand(stdout, stderr),
        };

    private static Command PointingGameCommand(TextWriter stdout, TextWriter stderr)
    {
        var shared = new EvalOptions();
        var command = new Command("pointing-game", "For each scene and each of its two classes, explain the class; a hit when the map's maximum lies within 15·side/224 px of that object's box; class-discriminative when the box holds more positive relevance than the other object's box. Prints a table with 95 % confidence intervals over scenes.");
        shared.AddTo(command);
        command.SetAction(p => PointingGameRunner.Run(shared.Read(p), stdout, stderr));
        return command;
    }

    private static Command AblationCommand(TextWriter stdout, TextWriter stderr)
    {
        var shared = new EvalOptions();
        var steps = new Option<string>("--steps") { Description = "Number of steps; each removes 1 % more of the pixels.", DefaultValueFactory = _ => "20", HelpName = "L" };
        var seed = new Option<string>("--seed") { Description = "Seed of the random-order baseline and of tie-breaking among equal relevance values.", DefaultValueFactory = _ => "1", HelpName = "S" };
        var plot = new Option<string>("--plot") { Description = "Write the mean curves as a PNG line plot.", HelpName = "curves.png" };
        var command = new Command("ablation", "Remove each class's most relevant pixels 1 % at a time (set to the dataset mean) and record the drop of that class's logit; AOPC per method against a random order. Rows go to --out (resumable), mean curves to --plot.");
        shared.AddTo(command);
        command.Add(steps);
        command.Add(seed);
        command.Add(plot);
        command.SetAction(p =>
        {
            EvalSettings settings = shared.Read(p);
            int stepCount = NumberListParser.ParseInt("--steps", p.GetValue(steps)!, 1);
            if (stepCount > 100)
            {
                throw new Clrp.Onnx.InvalidOptionsException($"--steps removes 1 % per step, so at most 100; got {stepCount}.");
            }

            var ablation = new AblationSettings(stepCount, NumberListParser.ParseInt("--seed", p.GetValue(seed)!, 0), p.GetValue(plot));
            return AblationRunner.Run(settings, ablation, stdout, stderr);
        });
        return command;
    }

    private static Command RandomizationCommand(TextWriter stdout, TextWriter stderr)
    {
        var shared = new EvalOptions();
        var modes = new Option<string>("--modes") { Description = $"Comma-separated: {string.Join(", ", RandomizationStep.Modes)}.", DefaultValueFactory = _ => string.Join(',', RandomizationStep.Modes), HelpName = "M,M" };
        var seed = new Option<string>("--seed") { Description = "Seed of the random parameters and of the random classes.", DefaultValueFactory = _ => "1", HelpName = "S" };
        var plot = new Option<string>("--plot") { Description = "Write the cascading curves (Spearman ρ of |R| per method) as a PNG line plot.", HelpName = "curves.png" };
        var command = new Command("randomization", "Sanity check of Adebayo et al. (2018): compare each method's map of class_a with its map after re-drawing the top layers' parameters (cascading), one layer's (independent), or for a random class (random logit); Spearman ρ of |R| and R, SSIM, with 95 % intervals. A method that passes changes its map. Rows go to --out (resumable); use --limit, each step explains every scene again.");
        shared.AddTo(command);
        command.Add(modes);
        command.Add(seed);
        command.Add(plot);
        command.SetAction(p =>
        {
            EvalSettings settings = shared.Read(p);
            var randomization = new RandomizationSettings(RandomizationStep.ParseModes(p.GetValue(modes)!), NumberListParser.ParseInt("--seed", p.GetValue(seed)!, 0), p.GetValue(plot));
            return RandomizationRunner.Run(settings, randomization, stdout, stderr);
        });
        return command;
    }
}
