using Clrp.Onnx.Algebra;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Emitting;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Rules;
using Google.Protobuf;

namespace Clrp.Onnx.Compiling;

/// <summary>What a compiled graph is fixed to.</summary>
/// <param name="Method">The method.</param>
/// <param name="DualSeed">CLRP1's dual.</param>
/// <param name="Composite">The rules.</param>
/// <param name="Bounds">z^B bounds given as options (null: each image's own range, computed in the graph).</param>
/// <param name="TargetsPerImage">k.</param>
/// <param name="ImageShape">The input's per-image shape the graph is specialised to.</param>
internal sealed record CompileRequest(ExplainMethod Method, DualSeed DualSeed, Composite Composite, BoxBounds? Bounds, int TargetsPerImage, int[] ImageShape);

/// <summary>A compiled explainer graph and what reading its outputs needs.</summary>
/// <param name="Model">The serialized ONNX model.</param>
/// <param name="Request">What it was compiled for.</param>
/// <param name="Layout">Rows walked per image.</param>
/// <param name="Classes">K.</param>
/// <param name="InputName">The image input's name.</param>
/// <param name="Nodes">Nodes the explanation added to the model.</param>
internal sealed record CompiledGraph(byte[] Model, CompileRequest Request, SeedBatch Layout, int Classes, string InputName, int Nodes);

/// <summary>
/// The compiled engine's compiler (DESIGN §2): walks the plan once with the <see cref="EmittingAlgebra"/>, so every
/// propagator and rule emits ONNX nodes instead of computing, and wraps the model's own forward graph with the seed
/// construction, the relevance pass and the method's map into one model that any ONNX Runtime can run. The model's nodes
/// and initializers are kept as they are (the forward is exactly the model's); the added nodes reference the model's
/// weights by name and derive transformed weights as nodes over them.
/// </summary>
internal static class ExplainerCompiler
{
    /// <summary>Compiles <paramref name="plan"/> for <paramref name="request"/>; <paramref name="shapes"/> are the per-image shapes of the walk's values.</summary>
    /// <exception cref="CompilationException">The explanation cannot be written as one graph; the message names the node and why.</exception>
    public static CompiledGraph Compile(ExplanationPlan plan, CompileRequest request, IReadOnlyDictionary<string, int[]> shapes)
    {
        ModelProto source = plan.Original.Model;
        if (source.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External))
        {
            throw new CompilationException($"{plan.Graph.Source}: its weights are stored in external data files, which a compiled graph held in memory cannot reference.");
        }

        if (plan.Opset < OnnxEmitter.MinimumOpset)
        {
            throw new CompilationException($"{plan.Graph.Source}: opset {plan.Opset} is older than {OnnxEmitter.MinimumOpset}, the oldest the explainer graph is written for.");
        }

        int[] logitsRow = Shape(shapes, plan.Logits, plan);
        int classes = logitsRow.Aggregate(1, (a, b) => a * b);
        if (logitsRow.Skip(1).Any(d => d != 1))
        {
            throw new InvalidGraphException($"{plan.Graph.Source}: the explained output '{plan.Logits}' has shape [N,{string.Join(',', logitsRow)}]; expected class scores [N,K] (or [N,K,1,1]). Use --output to name another tensor.");
        }

        bool nonNegativeRules = plan.Rules.Values.All(r => r is ZPlusRule or ZBoxRule or FlatRule or WSquareRule);
        SeedBatch layout = SeedBatch.Compiled(request.Method, request.TargetsPerImage, nonNegativeRules);
        var emitter = new OnnxEmitter(plan.Opset, plan.ModelValueNames.Concat(OutputNames(request.Method)).Append(CompiledNames.Targets));
        string logits2d = emitter.Reshape(plan.Logits, -1, classes);
        EmittedSeeds seeds = SeedEmission.Emit(emitter, logits2d, CompiledNames.Targets, classes, request.Method, request.DualSeed, layout);
        var alg = new EmittingAlgebra(emitter, new EmittingContext
        {
            ShapeOf = name => Shape(shapes, name, plan),
            IsModelConstant = plan.IsModelConstant,
            RowsPerImage = layout.RowsPerImage,
            RowOnes = seeds.RowOnes,
            NegatedUnits = seeds.NegatedUnits,
        });
        PlanContext context = PlanContexts.For(plan, request.Method, request.Composite, request.Bounds);
        var observer = new NodeTracker();
        RelValue walked;
        try
        {
            walked = RelevanceWalker.Walk(plan, alg, context, EmittingAlgebra.RowsOf(seeds.Rows, [classes]), observer);
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException or KeyNotFoundException)
        {
            throw new CompilationException($"{plan.Graph.Source}: node '{observer.Current?.Name}' ({observer.Current?.OpType}) cannot be compiled: {e.Message}", e);
        }

        EmittedMaps maps = MapEmission.Emit(emitter, EmittingAlgebra.NameOf(walked), plan.Input.Name, request.ImageShape, seeds, classes, request.Method, request.DualSeed, layout, plan.ChannelsLast);
        byte[] bytes = Assemble(plan, source, emitter, request, seeds, maps, logits2d, classes);
        return new CompiledGraph(bytes, request, layout, classes, plan.Input.Name, emitter.Nodes.Count + 1);
    }

    /// <summary>The model with the explanation added: its nodes and initializers, then ours; the image and targets as inputs, our outputs only.</summary>
    private static byte[] Assemble(ExplanationPlan plan, ModelProto source, OnnxEmitter emitter, CompileRequest request, EmittedSeeds seeds, EmittedMaps maps, string logits2d, int classes)
    {
        var graph = new GraphProto { Name = source.Graph.Name + "_explained", DocString = $"ClrpMl explainer: {request.Method.ToName()} with rules '{RulesName(request)}'." };
        graph.Node.AddRange(source.Graph.Node);
        graph.Initializer.AddRange(source.Graph.Initializer);
        graph.SparseInitializer.AddRange(source.Graph.SparseInitializer);
        graph.ValueInfo.AddRange(source.Graph.ValueInfo.Where(v => v.Name != plan.Input.Name));

        // Outputs get their fixed names through Identity nodes.
        int k = request.TargetsPerImage;
        long[] row = request.ImageShape.Select(d => (long)d).ToArray();
        var outputs = new List<(string Name, string Value, int Type, long[] Dims)>
        {
            (CompiledNames.Logits, logits2d, 1, [classes]),
            (CompiledNames.Classes, seeds.Classes, 7, [k]),
            (CompiledNames.Relevance, maps.Relevance, 1, [k, .. row]),
            (CompiledNames.Heatmap, maps.Heatmap, 1, row.Length != 3 ? [k, .. row] : plan.ChannelsLast ? [k, .. row[..2]] : [k, .. row[1..]]),
            (CompiledNames.SeedSums, seeds.DualSeedSums is null ? seeds.TargetSeedSums : emitter.Node("Concat", [seeds.TargetSeedSums, emitter.Reshape(seeds.DualSeedSums, -1, k)], OnnxEmitter.Int("axis", 1)), 1, [request.Method.IsContrastive() ? 2 * k : k]),
            (CompiledNames.InputSums, maps.InputSums, 1, [request.Method.IsContrastive() ? 2 * k : k]),
        };
        if (maps.Target is not null)
        {
            outputs.Add((CompiledNames.TargetRelevance, maps.Target, 1, [k, .. row]));
            outputs.Add((CompiledNames.DualRelevance, maps.Dual!, 1, [k, .. row]));
            outputs.Add((CompiledNames.SignedDifference, maps.Signed!, 1, [k, .. row]));
        }

        foreach ((string name, string value, _, _) in outputs)
        {
            var identity = new NodeProto { OpType = "Identity", Name = emitter.Fresh("output"), Input = { value }, Output = { name } };
            emitter.Nodes.Add(identity);
        }

        graph.Node.AddRange(emitter.Nodes);
        graph.Initializer.AddRange(emitter.Initializers);
        graph.Input.Add(ImageInput(plan, source, request.ImageShape));
        // Its own row symbol: [1,k] (one row for every image) is accepted, and ONNX Runtime must not take the rows for N (its memory
        // planner takes equal symbolic shapes for equal sizes and reused a [1,k]-derived buffer for an [N,k] value).
        graph.Input.Add(Tensor(CompiledNames.Targets, 7, ["targets_rows", k]));
        foreach ((string name, _, int type, long[] dims) in outputs)
        {
            graph.Output.Add(Tensor(name, type, ["N", .. dims.Cast<object>()]));
        }

        var model = new ModelProto
        {
            IrVersion = Math.Max(source.IrVersion, 4),
            ProducerName = "ClrpMl",
            ProducerVersion = typeof(ExplainerCompiler).Assembly.GetName().Version?.ToString() ?? "1",
            Domain = source.Domain,
            ModelVersion = source.ModelVersion,
            DocString = graph.DocString,
            Graph = graph,
        };
        model.OpsetImport.AddRange(source.OpsetImport);
        model.Functions.AddRange(source.Functions);
        model.MetadataProps.AddRange(source.MetadataProps.Where(p => !p.Key.StartsWith("clrp.", StringComparison.Ordinal)));
        model.MetadataProps.Add(new StringStringEntryProto { Key = "clrp.method", Value = request.Method.ToName() });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "clrp.rules", Value = RulesName(request) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "clrp.targets_per_image", Value = k.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "clrp.source", Value = Path.GetFileName(plan.Graph.Source) });
        lock (source)
        {
            return model.ToByteArray();
        }
    }

    private static string RulesName(CompileRequest request) => request.Method.IsGradient() ? "gradient" : request.Composite.Name;

    private static IEnumerable<string> OutputNames(ExplainMethod method) =>
        new[] { CompiledNames.Logits, CompiledNames.Classes, CompiledNames.Relevance, CompiledNames.Heatmap, CompiledNames.SeedSums, CompiledNames.InputSums }
            .Concat(method.IsContrastive() ? [CompiledNames.TargetRelevance, CompiledNames.DualRelevance, CompiledNames.SignedDifference] : []);

    /// <summary>The model's image input with its per-image axes fixed to the compiled size (the batch axis as declared).</summary>
    private static ValueInfoProto ImageInput(ExplanationPlan plan, ModelProto source, int[] imageShape)
    {
        ValueInfoProto declared = source.Graph.Input.First(i => i.Name == plan.Input.Name);
        TensorShapeProto.Types.Dimension batch = declared.Type?.TensorType?.Shape?.Dim.Count > 0
            ? declared.Type.TensorType.Shape.Dim[0].Clone()
            : new TensorShapeProto.Types.Dimension { DimParam = "N" };
        var shape = new TensorShapeProto();
        shape.Dim.Add(batch);
        shape.Dim.AddRange(imageShape.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new ValueInfoProto
        {
            Name = declared.Name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } },
        };
    }

    private static ValueInfoProto Tensor(string name, int elementType, IEnumerable<object> dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
        {
            shape.Dim.Add(d is string param ? new TensorShapeProto.Types.Dimension { DimParam = param } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elementType, Shape = shape } } };
    }

    private static int[] Shape(IReadOnlyDictionary<string, int[]> shapes, string name, ExplanationPlan plan) =>
        shapes.TryGetValue(name, out int[]? shape) ? shape : throw new CompilationException($"{plan.Graph.Source}: the shape of '{name}' is unknown (the shape probe did not reach it).");

    /// <summary>Remembers the node being emitted, to name it when emission fails.</summary>
    private sealed class NodeTracker : IWalkObserver
    {
        public Node? Current { get; private set; }

        public void Enter(Node node) => Current = node;

        public void Leave(Node node, IEnumerable<RelValue> pending)
        {
        }
    }
}
