namespace Mistral.C2F.Rlhf.RewardModel;

/// <summary>Mean over pairs of −log σ(r_c − r_r − m) (as softplus, stable for any margin) and its gradients.</summary>
public static class BradleyTerry
{
    public static (double Loss, double Accuracy, double[] ChosenGradients, double[] RejectedGradients) Compute(
        ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<double> margins)
    {
        int n = chosen.Length;
        var (dChosen, dRejected) = (new double[n], new double[n]);
        double loss = 0, correct = 0;
        for (int i = 0; i < n; i++)
        {
            double z = chosen[i] - rejected[i] - margins[i];
            loss += Softplus(-z);
            double gradient = -Sigmoid(-z) / n; // d/dz of softplus(−z) is −σ(−z)
            (dChosen[i], dRejected[i]) = (gradient, -gradient);
            correct += chosen[i] > rejected[i] ? 1 : 0;
        }
        return (loss / n, correct / n, dChosen, dRejected);
    }

    private static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
