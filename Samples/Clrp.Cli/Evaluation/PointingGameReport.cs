using System.Globalization;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// The table of <c>clrp eval pointing-game</c> (Markdown, so that it can be pasted into a README): per method the
/// pointing-game accuracy, the class-discriminativeness and how often both classes' maps point at the same
/// object, each as the mean over scenes with its 95 % confidence interval, plus the centre-point baseline.
/// </summary>
internal static class PointingGameReport
{
    public static void Print(TextWriter o, EvalSettings settings, SceneSet set, ResultsFile results, double tolerance, TimeSpan elapsed)
    {
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pointing game: {settings.ModelPath} on {set.Scenes.Count} scenes of '{set.Folder}' ({2 * set.Scenes.Count} scene-class pairs), {set.Width}×{set.Height}, tolerance {tolerance:0.00} px, rules {settings.Rules}"));
        o.WriteLine("each cell: mean over scenes [95 % confidence interval, Student t]; a scene scores the mean of its two classes");
        o.WriteLine();
        o.WriteLine("| method | pointing game | pointing game, nearer own object | class-discriminative | both maps on one object |");
        o.WriteLine("|---|---|---|---|---|");
        o.WriteLine(Line("centre point (baseline)", set.Scenes.Select(s => CentreScores(s, set, tolerance)).ToList()));
        foreach (EvalMethod method in settings.Methods)
        {
            var scores = new List<Scores>();
            foreach (Scene scene in set.Scenes)
            {
                if (results.TryGet(method.Name, scene.Index, out string[] row))
                {
                    scores.Add(RowScores(row, scene, tolerance));
                }
            }

            o.WriteLine(Line(method.Name, scores));
        }

        o.WriteLine();
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time: {elapsed.TotalSeconds:0.0} s for the rows computed in this run ({Environment.ProcessorCount} logical cores)"));
    }

    /// <summary>Per-scene scores of a results row.</summary>
    public static Scores RowScores(string[] row, Scene scene, double tolerance)
    {
        int Column(string name) => Array.IndexOf(PointingGameRunner.Columns, name);
        double Flag(string name) => row[Column(name)] == "1" ? 1 : 0;
        (double, double)? Point(string x, string y) => row[Column(x)].Length == 0 ? null
            : (double.Parse(row[Column(x)], CultureInfo.InvariantCulture), double.Parse(row[Column(y)], CultureInfo.InvariantCulture));

        (double, double)?[] points = [Point("max_ax", "max_ay"), Point("max_bx", "max_by")];
        return new Scores(
            (Flag("hit_a") + Flag("hit_b")) / 2,
            Nearer(points, scene, tolerance),
            (Flag("disc_a") + Flag("disc_b")) / 2,
            PointingGame.SameObject(points[0], points[1], scene, tolerance) ? 1 : 0);
    }

    /// <summary>
    /// The centre-point baseline: both classes "point" at the canvas centre. Its map is that one point, so a class
    /// counts as discriminated when the centre lies inside its own box and not inside the other one.
    /// </summary>
    public static Scores CentreScores(Scene scene, SceneSet set, double tolerance)
    {
        (double X, double Y) centre = (set.Width / 2.0, set.Height / 2.0);
        double hits = 0, discriminative = 0;
        for (int o = 0; o < 2; o++)
        {
            hits += PointingGame.IsHit(centre, scene.Object(o), tolerance) ? 1 : 0;
            discriminative += PointingGame.IsHit(centre, scene.Object(o), 0) && !PointingGame.IsHit(centre, scene.Object(1 - o), 0) ? 1 : 0;
        }

        return new Scores(hits / 2, Nearer([centre, centre], scene, tolerance), discriminative / 2, PointingGame.SameObject(centre, centre, scene, tolerance) ? 1 : 0);
    }

    private static double Nearer((double X, double Y)?[] points, Scene scene, double tolerance) =>
        ((PointingGame.IsNearerHit(points[0], scene.A, scene.B, tolerance) ? 1 : 0) + (PointingGame.IsNearerHit(points[1], scene.B, scene.A, tolerance) ? 1 : 0)) / 2.0;

    private static string Line(string name, IReadOnlyList<Scores> scores) =>
        $"| {name} | {Cell(scores, s => s.Pointing)} | {Cell(scores, s => s.NearerPointing)} | {Cell(scores, s => s.Discriminative)} | {Cell(scores, s => s.SameObject)} |";

    private static string Cell(IReadOnlyList<Scores> scores, Func<Scores, double> pick) => MeanInterval.Of([.. scores.Select(pick)]).Format();

    /// <summary>One scene's scores, each the mean over its two classes (0, ½ or 1).</summary>
    /// <param name="Pointing">The pointing game.</param>
    /// <param name="NearerPointing">The pointing game counting only hits nearer the explained object than the other.</param>
    /// <param name="Discriminative">More positive relevance in the explained object's box than in the other's.</param>
    /// <param name="SameObject">1 when both classes' maxima point at one object.</param>
    internal readonly record struct Scores(double Pointing, double NearerPointing, double Discriminative, double SameObject);
}
