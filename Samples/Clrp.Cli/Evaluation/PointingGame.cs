namespace Clrp.Cli.Evaluation;

/// <summary>
/// The pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016) and the
/// class-discriminativeness score on two-object scenes. Maps are row-major H×W arrays; points are in continuous
/// pixel coordinates (pixel (x, y) covers [x, x+1) × [y, y+1), its centre is (x + ½, y + ½)).
/// </summary>
internal static class PointingGame
{
    /// <summary>The pointing game's tolerance: 15 pixels on a 224-pixel image.</summary>
    public const double ToleranceAt224 = 15;

    /// <summary>The tolerance scaled to a canvas whose shorter side is <paramref name="side"/> pixels: 15·side/224 (4.29 at 64).</summary>
    public static double Tolerance(int side) => ToleranceAt224 * side / 224.0;

    /// <summary>
    /// The map's maximum as the centre of its pixel, the first in row-major order on ties; null when the map holds
    /// no positive finite value (it then points nowhere and counts as a miss).
    /// </summary>
    public static (double X, double Y)? MaxPoint(ReadOnlySpan<float> map, int width)
    {
        int best = -1;
        float max = 0;
        for (int i = 0; i < map.Length; i++)
        {
            // Strictly greater: the first maximum wins, and NaN never does.
            if (map[i] > max && float.IsFinite(map[i]))
            {
                max = map[i];
                best = i;
            }
        }

        return best < 0 ? null : ((best % width) + 0.5, (best / width) + 0.5);
    }

    /// <summary>A hit: the point lies inside <paramref name="box"/> or within <paramref name="tolerance"/> pixels of it.</summary>
    public static bool IsHit((double X, double Y)? point, ObjectBox box, double tolerance) =>
        point is { } p && box.DistanceTo(p.X, p.Y) <= tolerance;

    /// <summary>
    /// A hit that also tells the objects apart: the point is a hit on <paramref name="own"/> and strictly nearer to
    /// it than to <paramref name="other"/>. On small canvases the plain pointing game saturates (the canvas centre
    /// lies within the tolerance of both boxes in most 64×64 scenes); this variant cannot be won by pointing between
    /// the objects, and a class-blind point scores at most one of a scene's two classes.
    /// </summary>
    public static bool IsNearerHit((double X, double Y)? point, ObjectBox own, ObjectBox other, double tolerance) =>
        point is { } p && IsHit(point, own, tolerance) && own.DistanceTo(p.X, p.Y) < other.DistanceTo(p.X, p.Y);

    /// <summary>Σ max(0, v) over the pixels of <paramref name="box"/>: the positive relevance it holds.</summary>
    public static double PositiveMass(ReadOnlySpan<float> map, int width, ObjectBox box)
    {
        double sum = 0;
        for (int y = box.Y0; y < box.Y1; y++)
        {
            foreach (float v in map.Slice((y * width) + box.X0, box.X1 - box.X0))
            {
                if (v > 0 && float.IsFinite(v))
                {
                    sum += v;
                }
            }
        }

        return sum;
    }

    /// <summary>
    /// Class-discriminative: the explained object's box holds strictly more positive relevance than the other
    /// object's box (a tie, such as an all-zero map, is not).
    /// </summary>
    public static bool IsDiscriminative(double ownMass, double otherMass) => ownMass > otherMass;

    /// <summary>
    /// Both maps of a scene point at the same object (each within the tolerance of it): the mark of a
    /// class-insensitive method, whose maps look alike whichever class is asked for.
    /// </summary>
    public static bool SameObject((double X, double Y)? pointA, (double X, double Y)? pointB, Scene scene, double tolerance) =>
        (IsHit(pointA, scene.A, tolerance) && IsHit(pointB, scene.A, tolerance)) || (IsHit(pointA, scene.B, tolerance) && IsHit(pointB, scene.B, tolerance));
}
