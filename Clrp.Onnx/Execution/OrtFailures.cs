using System.Text.RegularExpressions;
using Clrp.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Execution;

/// <summary>
/// Turns an <see cref="OnnxRuntimeException"/> thrown while a model runs into a <see cref="ModelRunException"/> whose
/// one-line message names the node of the model file, its operator, the input shape and ONNX Runtime's reason without
/// its C++ source location. ORT reports the node under the name its graph optimiser gave it (the Conv <c>conv0</c>
/// writing <c>c</c> runs as <c>c_nchwc</c>), so the name is mapped back: an exact node name first, then the node
/// whose name or output is the longest prefix of ORT's name.
/// </summary>
internal sealed partial class OrtFailures
{
    private readonly string _source;
    private readonly Dictionary<string, (string Name, string OpType)> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Name, string OpType)> _byOutput = new(StringComparer.Ordinal);

    /// <param name="model">The model ORT runs (names as in the file); only names are kept, not the protobuf.</param>
    /// <param name="source">Names the model in messages.</param>
    public OrtFailures(ModelProto model, string source)
    {
        _source = source;
        for (int i = 0; i < model.Graph.Node.Count; i++)
        {
            NodeProto node = model.Graph.Node[i];
            // Unnamed nodes get the name the graph reader gives them (OnnxModelReader: "{OpType}_{index}").
            (string, string) id = (string.IsNullOrEmpty(node.Name) ? $"{node.OpType}_{i}" : node.Name, node.OpType);
            if (!string.IsNullOrEmpty(node.Name))
            {
                _byName.TryAdd(node.Name, id);
            }

            foreach (string output in node.Output)
            {
                if (output.Length > 0)
                {
                    _byOutput.TryAdd(output, id);
                }
            }
        }
    }

    /// <summary>The typed error for <paramref name="failure"/>, raised while running on an input of shape <paramref name="inputShape"/>.</summary>
    public ModelRunException Translate(OnnxRuntimeException failure, IReadOnlyList<int> inputShape)
    {
        string shape = "[" + string.Join(',', inputShape) + "]";
        string message = FirstLine(failure.Message);
        Match m = NodeFailure().Match(message);
        if (!m.Success)
        {
            string reason = Clean(ErrorCodePrefix().Replace(message, string.Empty));
            return new ModelRunException($"{_source}: the model cannot run on input {shape}: {Shorten(reason)}", null, null, failure);
        }

        string ortName = m.Groups["name"].Value, opType = m.Groups["op"].Value;
        (string Name, string OpType)? node = Resolve(ortName);
        string detail = Shorten(Clean(m.Groups["reason"].Value));
        string named = node is { } n ? $"node '{n.Name}' ({n.OpType})" : $"node '{ortName}' ({opType}, ONNX Runtime's name after optimisation)";
        return new ModelRunException(
            $"{_source}: {named} fails on input {shape}: {detail}; the node's attributes or weights do not fit the shape of its input.",
            node?.Name ?? ortName, node?.OpType ?? opType, failure);
    }

    /// <summary>A failure of a kernel model ClrpMl built itself (no node of the user's file to name).</summary>
    public static ModelRunException Internal(OnnxRuntimeException failure, string source, string stage) =>
        new($"{source}: ONNX Runtime failed in {stage}: {Shorten(Clean(ErrorCodePrefix().Replace(FirstLine(failure.Message), string.Empty)))}", null, null, failure);

    private (string Name, string OpType)? Resolve(string ortName)
    {
        if (_byName.TryGetValue(ortName, out var exact))
        {
            return exact;
        }

        // Optimised nodes are named after the original node or its output plus a suffix ("c_nchwc", "conv0_token_3").
        for (int cut = ortName.LastIndexOf('_'); cut > 0; cut = ortName.LastIndexOf('_', cut - 1))
        {
            string prefix = ortName[..cut];
            if (_byName.TryGetValue(prefix, out var byName))
            {
                return byName;
            }

            if (_byOutput.TryGetValue(prefix, out var byOutput))
            {
                return byOutput;
            }
        }

        return _byOutput.TryGetValue(ortName, out var output) ? output : null;
    }

    /// <summary>
    /// ORT's reason without the C++ location and signature that precede it
    /// ("/onnxruntime_src/…/reshape_helper.h:84 onnxruntime::ReshapeHelper::ReshapeHelper(…) size != 0 … was false. …").
    /// </summary>
    internal static string Clean(string reason)
    {
        reason = reason.Trim();
        Match location = SourceLocation().Match(reason);
        if (!location.Success)
        {
            return reason;
        }

        string rest = reason[location.Length..];
        int open = rest.IndexOf('(', StringComparison.Ordinal);
        if (open > 0 && rest[..open].Contains("::", StringComparison.Ordinal))
        {
            int depth = 0;
            for (int i = open; i < rest.Length; i++)
            {
                depth += rest[i] == '(' ? 1 : rest[i] == ')' ? -1 : 0;
                if (depth == 0)
                {
                    rest = rest[(i + 1)..];
                    break;
                }
            }
        }

        rest = rest.Trim();
        return rest.Length == 0 ? reason : rest;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text.TrimEnd('.');

    [GeneratedRegex(@"running (?<op>[\w.]+) node\. Name:'(?<name>[^']*)' Status Message: (?<reason>.*)$")]
    private static partial Regex NodeFailure();

    [GeneratedRegex(@"^\[ErrorCode:\w+\]\s*")]
    private static partial Regex ErrorCodePrefix();

    [GeneratedRegex(@"^/\S+\.(?:h|cc|cpp|hpp):\d+\s+")]
    private static partial Regex SourceLocation();
}
