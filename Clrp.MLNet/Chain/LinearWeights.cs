using Clrp.Onnx;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Clrp.MLNet.Chain;

/// <summary>
/// The weights W (K×F, class-major) and biases b (K) of a trained linear ML.NET head, so that its logits are
/// <c>z = W·x + b</c>:
/// <list type="bullet">
/// <item>multiclass linear models (<c>MaximumEntropyModelParameters</c> from LbfgsMaximumEntropy/SdcaMaximumEntropy,
/// <c>LinearMulticlassModelParameters</c>): <c>GetWeights</c>, <c>GetBiases</c>; z is the input of their softmax;</item>
/// <item>one-versus-all over linear binary models: row k is class k's model; a Platt-calibrated model
/// <c>p = 1/(1 + exp(a·s + c))</c> contributes its calibrated logit <c>−(a·s + c)</c>, affine in x, whose arg-max is
/// the predicted class;</item>
/// <item>a binary linear model (score s, calibrated or not): two classes with logits <c>∓s/2</c> (softmax of them is
/// σ(s)), so that both "false" and "true" can be explained.</item>
/// </list>
/// Anything else (tree ensembles such as FastTree and LightGBM, kernel or factorisation models) is refused.
/// </summary>
internal static class LinearWeights
{
    public static (float[] Weights, float[] Bias, string Kind) Read(object model)
    {
        switch (model)
        {
            case LinearMulticlassModelParametersBase multiclass:
            {
                VBuffer<float>[] rows = [];
                multiclass.GetWeights(ref rows, out int classes);
                float[] bias = multiclass.GetBiases().ToArray();
                int features = rows[0].Length;
                var weights = new float[classes * features];
                for (int k = 0; k < classes; k++)
                {
                    rows[k].CopyTo(weights.AsSpan(k * features, features));
                }

                return (weights, bias, model.GetType().Name);
            }

            case OneVersusAllModelParameters ova:
            {
                IReadOnlyList<object> subModels = MlNetAccess.ReadSubModels(ova)
                    ?? throw new InvalidOptionsException("AppendExplain(): this ML.NET version hides the per-class models of OneVersusAll, so the head cannot be composed.");
                var rows = subModels.Select(m => BinaryLogit(m, "OneVersusAll")).ToList();
                int features = rows[0].Weights.Length;
                if (rows.Any(r => r.Weights.Length != features))
                {
                    throw new InvalidOptionsException("AppendExplain(): the OneVersusAll models have different feature counts.");
                }

                return (rows.SelectMany(r => r.Weights).ToArray(), rows.Select(r => r.Bias).ToArray(), $"OneVersusAll({subModels[0].GetType().Name})");
            }

            default:
            {
                (float[] w, float b) = BinaryLogit(model, "binary");
                return ([.. w.Select(v => -v / 2), .. w.Select(v => v / 2)], [-b / 2, b / 2], model.GetType().Name);
            }
        }
    }

    /// <summary>The logit of a linear binary model as (w, b): its raw score, or its Platt-calibrated logit.</summary>
    private static (float[] Weights, float Bias) BinaryLogit(object model, string role)
    {
        if (model is LinearBinaryModelParameters linear)
        {
            return ([.. linear.Weights], linear.Bias);
        }

        if (model is CalibratedModelParametersBase { SubModel: LinearBinaryModelParameters inner, Calibrator: PlattCalibrator platt })
        {
            // p = 1/(1 + exp(a·s + c)) ⇒ logit(p) = −a·s − c = (−a·w)·x + (−a·b − c).
            float a = (float)platt.Slope, c = (float)platt.Offset;
            return ([.. inner.Weights.Select(w => -a * w)], (-a * inner.Bias) - c);
        }

        string name = model is CalibratedModelParametersBase calibrated ? $"{calibrated.SubModel?.GetType().Name} calibrated by {calibrated.Calibrator?.GetType().Name}" : model.GetType().Name;
        throw new InvalidOptionsException($"AppendExplain(): the {role} head {name} is not a linear model (tree ensembles such as FastTree and LightGBM, and non-Platt calibrators, have no layer-wise relevance rules here); train a linear head: LbfgsMaximumEntropy, SdcaMaximumEntropy, SdcaNonCalibrated, or OneVersusAll of LinearSvm, AveragedPerceptron or a logistic regression.");
    }
}
