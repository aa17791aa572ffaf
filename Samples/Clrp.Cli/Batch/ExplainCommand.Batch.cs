using System.CommandLine;
using Clrp.Batch;
using Clrp.Cli.Batch;
using Clrp.Onnx;
using Clrp.Onnx.Execution;

namespace Clrp.Cli;

/// <summary>
/// Batch mode of <c>clrp explain</c>: <c>--inputs DIR|list.txt|manifest.csv --out-dir DIR</c> with the same explain
/// options as one input. Kept in its own file so that the single-input contract (ExplainCommand.cs) stays as it is.
/// </summary>
internal sealed partial class ExplainCommand
{
    private readonly Option<string> _inputs = new("--inputs") { Description = "Batch mode: a folder (every picture and .npy below it, sorted by path), a list of paths (one per line) or a CSV manifest with a 'path' column and an optional 'target' column. Needs --out-dir; writes one relevance .npy and one heatmap PNG per input and class (1-D signals as a strip; 3-D volumes get the .npy only), and results.csv. A rerun skips finished inputs.", HelpName = "DIR|list.txt|manifest.csv" };
    private readonly Option<string> _outDir = new("--out-dir") { Description = "Batch mode: the output folder (results.csv, job.json, items/<sha256>/…).", HelpName = "DIR" };
    private readonly Option<string> _batch = new("--batch") { Description = "Batch mode: inputs per forward pass and backward walk.", DefaultValueFactory = _ => "8", HelpName = "B" };
    private readonly Option<bool> _noHeatmaps = new("--no-heatmaps") { Description = "Batch mode: write the relevance .npy files only, no heatmap PNGs." };

    private IEnumerable<Option> BatchOptions => [_inputs, _outDir, _batch, _noHeatmaps];

    /// <summary>Reports a missing --input at parse time, as the option's own 'required' check did before batch mode.</summary>
    private void RequireSomeInput(Command command) => command.Validators.Add(result =>
    {
        if (result.GetResult(_input) is null && result.GetResult(_inputs) is null && result.GetResult(_outDir) is null)
        {
            // A command validator's error replaces the options' own 'required' errors: name a missing --model here too.
            string model = result.GetResult(_model) is null ? "Option '--model' is required; " : string.Empty;
            result.AddError(model + "Option '--input' is required (or --inputs with --out-dir for a whole collection).");
        }
    });

    private bool IsBatch(ParseResult p) => p.GetValue(_inputs) is not null || p.GetValue(_outDir) is not null;

    /// <summary>Parses batch mode's options; throws <see cref="InvalidOptionsException"/> naming the offending option.</summary>
    private BatchRequest ReadBatch(ParseResult p)
    {
        string inputs = p.GetValue(_inputs) ?? throw new InvalidOptionsException("--out-dir needs --inputs (a folder, a list or a CSV manifest).");
        string outDir = p.GetValue(_outDir) ?? throw new InvalidOptionsException("--inputs needs --out-dir, the folder that receives the maps, heatmaps and results.csv.");
        foreach ((Option<string> option, string instead) in new[] { (_input, "--inputs"), (_out, "--out-dir"), (_heatmap, "--out-dir") })
        {
            if (p.GetValue(option) is not null)
            {
                throw new InvalidOptionsException($"{option.Name} is for one input; batch mode takes {instead}.");
            }
        }

        Dictionary<string, Option<string>> byName = All.OfType<Option<string>>().ToDictionary(o => o.Name);
        BatchSettings settings = BatchOptionText.Parse(name => p.GetValue(byName[name]), heatmaps: !p.GetValue(_noHeatmaps));
        int batch = NumberListParser.ParseInt("--batch", p.GetValue(_batch)!, 1);
        return new BatchRequest(settings, inputs, outDir, batch, Device.Parse(p.GetValue(_device)!, fallbackToCpu: true), CacheFolder.Resolve(p.GetValue(_cacheDir)));
    }
}
