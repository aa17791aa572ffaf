using System.Globalization;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// Runs <c>clrp eval pointing-game</c>: for every scene and each of its two classes, explains that class and
/// records where the map's maximum lies and how much positive relevance each object's box holds; one results
/// row per (method, scene). Then prints the table over the methods plus the centre-point baseline.
/// </summary>
internal static class PointingGameRunner
{
    /// <summary>The results columns: max_* are the maximum's pixel centre (empty when the map has no positive value).</summary>
    public static readonly string[] Columns =
        ["method", "scene", "class_a", "class_b", "max_ax", "max_ay", "max_bx", "max_by", "hit_a", "hit_b", "own_a", "other_a", "own_b", "other_b", "disc_a", "disc_b"];

    public static int Run(EvalSettings settings, TextWriter stdout, TextWriter stderr)
    {
        SceneSet set = SceneSetReader.Read(settings.DataDir, settings.Limit);
        double tolerance = PointingGame.Tolerance(Math.Min(set.Width, set.Height));
        string identity = settings.Identity("pointing-game", "tolerance " + tolerance.ToString("R", CultureInfo.InvariantCulture));
        using ResultsFile results = ResultsFile.Open(settings.OutPath is null ? null : OutputPaths.Prepare(settings.OutPath), identity, Columns);
        MapFolder? mapFolder = MapFolder.Open(settings.MapsDir);
        using var loop = new EvalLoop(settings, stderr);
        var byName = settings.Methods.ToDictionary(m => m.Name);
        TimeSpan elapsed = loop.Run(set, results, [.. byName.Keys], "pointing-game rows", (name, scenes) =>
        {
            EvalMethod method = byName[name];
            float[][][] maps = SceneExplainer.Explain(loop.Explainer(method), method, set, scenes, settings.Scaling);
            for (int s = 0; s < scenes.Count; s++)
            {
                mapFolder?.Write(name, scenes[s], maps[s], set.Height, set.Width);
                results.Append(Row(name, scenes[s], maps[s], set.Width, tolerance));
            }
        });

        PointingGameReport.Print(stdout, settings, set, results, tolerance, elapsed);
        return CliErrors.Success;
    }

    /// <summary>The results row of one scene: both maps' maxima, hits, box masses and discriminativeness.</summary>
    public static string[] Row(string method, Scene scene, float[][] maps, int width, double tolerance)
    {
        var fields = new List<string> { method, Text(scene.Index), Text(scene.A.Class), Text(scene.B.Class) };
        var points = new (double X, double Y)?[2];
        for (int o = 0; o < 2; o++)
        {
            points[o] = PointingGame.MaxPoint(maps[o], width);
            fields.Add(points[o] is { } p ? Text(p.X) : string.Empty);
            fields.Add(points[o] is { } q ? Text(q.Y) : string.Empty);
        }

        var masses = new (double Own, double Other)[2];
        for (int o = 0; o < 2; o++)
        {
            fields.Add(PointingGame.IsHit(points[o], scene.Object(o), tolerance) ? "1" : "0");
            masses[o] = (PointingGame.PositiveMass(maps[o], width, scene.Object(o)), PointingGame.PositiveMass(maps[o], width, scene.Object(1 - o)));
        }

        foreach ((double own, double other) in masses)
        {
            fields.Add(Text(own));
            fields.Add(Text(other));
        }

        fields.AddRange(masses.Select(m => PointingGame.IsDiscriminative(m.Own, m.Other) ? "1" : "0"));
        return [.. fields];
    }

    private static string Text(double v) => v.ToString("G9", CultureInfo.InvariantCulture);

    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);
}
