namespace Mistral.C2F.Engine.Training;

/// <summary>Linear warmup from 0 to the peak, then cosine decay to <c>peak · MinimumRatio</c> at the last step.</summary>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, int TotalSteps, double MinimumRatio = 0.1)
{
    /// <summary>The learning rate of step <paramref name="step"/>, counted from 1.</summary>
    public double At(int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "steps count from 1");
        if (step <= WarmupSteps) return Peak * step / WarmupSteps;
        double progress = Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps));
        return Peak * (MinimumRatio + (1 - MinimumRatio) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }

    public void Validate()
    {
        if (!(Peak > 0) || WarmupSteps < 0 || TotalSteps < 1 || !(MinimumRatio is >= 0 and <= 1))
            throw new ArgumentException($"invalid learning-rate schedule {this}");
    }
}
