using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// Explains both classes of every scene of a batch in one library call: each scene enters the batch twice,
/// once per object, with <see cref="Target.PerImage"/> naming that object's class, so one forward pass and one
/// backward walk serve 2·B explanations (the walk dominates; repeating the forward pass costs little).
/// </summary>
internal static class SceneExplainer
{
    /// <summary>The saliency maps, <c>maps[s][o]</c> = H·W values for scene s and object o (0 = a, 1 = b).</summary>
    public static float[][][] Explain(ClrpExplainer explainer, EvalMethod method, SceneSet set, IReadOnlyList<Scene> scenes, PixelScaling scaling)
    {
        Tensor input = set.Inputs(scenes, scaling, copies: 2);
        int[] classes = [.. scenes.SelectMany(s => new[] { s.A.Class, s.B.Class })];
        Explanation e = explainer.Explain(input, Target.PerImage(classes));
        var maps = new float[scenes.Count][][];
        for (int s = 0; s < scenes.Count; s++)
        {
            maps[s] = new float[2][];
            for (int o = 0; o < 2; o++)
            {
                float[] map = e.HeatmapOf((2 * s) + o);
                method.ToSaliency(map);
                maps[s][o] = map;
            }
        }

        return maps;
    }
}
