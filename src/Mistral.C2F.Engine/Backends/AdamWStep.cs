namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// The scalars of one AdamW update (PyTorch's definition): g = GradientScale·grad; m ← β₁m + (1−β₁)g;
/// v ← β₂v + (1−β₂)g²; p ← p − lr·(m/(1−β₁ᵗ) / (√(v/(1−β₂ᵗ)) + ε) + WeightDecay·p), t = Step (from 1).
/// </summary>
public readonly record struct AdamWStep(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, int Step,
    float GradientScale = 1f)
{
    public void Validate()
    {
        if (Step < 1) throw new ArgumentException($"AdamW step counts from 1, got {Step}");
        if (!(Beta1 is >= 0 and < 1) || !(Beta2 is >= 0 and < 1)) throw new ArgumentException($"AdamW betas must be in [0, 1), got {Beta1}, {Beta2}");
        if (!(Epsilon > 0) || !(LearningRate >= 0) || !(WeightDecay >= 0) || !float.IsFinite(GradientScale))
            throw new ArgumentException($"AdamW needs ε > 0, lr ≥ 0, weight decay ≥ 0 and a finite gradient scale, got {this}");
    }

    public double FirstMomentCorrection => 1 - Math.Pow(Beta1, Step);
    public double SecondMomentCorrection => 1 - Math.Pow(Beta2, Step);
}
