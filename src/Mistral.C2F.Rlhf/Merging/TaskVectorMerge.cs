using System.Numerics.Tensors;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// One tensor of any merge, in mergekit's generalized task arithmetic: task vectors τ_i = θ_i − θ_base are
/// sparsified, weighted by w_i, optionally filtered by sign consensus, summed (and normalised), scaled by the λ of
/// the tensor's group and added to the anchor: θ_base for the task-vector methods, θ_instruct for KRM.
/// </summary>
/// <remarks>
/// Every step is float32 in a fixed order (models in their listed order), so a merge is bit-reproducible:
/// <c>out[e] = anchor[e] + λ·(Σ_i w_i·S(θ_i − θ_base)[e]) / divisor</c>. With sign consensus (TIES) the elected
/// sign of an element is that of the summed weighted entries (zero counts as positive) and only entries of that
/// sign are summed; normalising divides by the weights that contributed (a divisor within 1e-8 of zero by 1).
/// </remarks>
public sealed class TaskVectorMerge
{
    private const float NegligibleDivisor = 1e-8f;

    private readonly Sparsification _sparsification;
    private readonly bool _signConsensus, _normalize;
    private readonly float[] _weights;
    private readonly double[] _densities;
    private readonly GroupLambdas _lambda;
    private readonly ulong _seed;

    public TaskVectorMerge(Sparsification sparsification, bool signConsensus, bool normalize,
        IReadOnlyList<(float Weight, double Density)> models, GroupLambdas lambda, ulong seed)
    {
        if (models.Count == 0) throw new ArgumentException("a merge needs at least one model", nameof(models));
        (_sparsification, _signConsensus, _normalize, _lambda, _seed) = (sparsification, signConsensus, normalize, lambda, seed);
        _weights = models.Select(model => model.Weight).ToArray();
        _densities = models.Select(model => model.Density).ToArray();
    }

    public static TaskVectorMerge For(MergeSpec spec) => new(spec.Sparsification, spec.Method.UsesSignConsensus(), spec.Normalizes,
        spec.Models.Select(model => (model.Weight, spec.DensityOf(model))).ToArray(), spec.Lambda, spec.Seed);

    public int ModelCount => _weights.Length;

    /// <summary>
    /// Merges one tensor of <c>output.Length</c> elements. <paramref name="models"/> hold each model's values in their
    /// first output.Length elements on entry and its weighted, sparsified task vector on return (the buffers are reused).
    /// </summary>
    public void Merge(string tensorName, ReadOnlySpan<float> anchor, ReadOnlySpan<float> reference, ReadOnlySpan<float[]> models,
        Span<float> output)
    {
        int n = output.Length;
        if (anchor.Length != n || reference.Length != n)
            throw new ArgumentException($"tensor '{tensorName}': anchor ({anchor.Length}), reference ({reference.Length}) and output ({n}) differ in length");
        if (models.Length != ModelCount) throw new ArgumentException($"tensor '{tensorName}': {models.Length} model buffers for a merge of {ModelCount}");
        for (int i = 0; i < models.Length; i++)
        {
            var taskVector = models[i].AsSpan(0, n);
            TensorPrimitives.Subtract(taskVector, reference, taskVector);
            Sparsify(taskVector, i, tensorName);
            TensorPrimitives.Multiply(taskVector, _weights[i], taskVector);
        }
        Combine(models, output);
        TensorPrimitives.Multiply(output, _lambda.For(tensorName), output);
        TensorPrimitives.Add(anchor, output, output);
    }

    private void Sparsify(Span<float> taskVector, int model, string tensorName)
    {
        switch (_sparsification)
        {
            case Sparsification.Trim:
                MagnitudeTrim.Apply(taskVector, _densities[model]);
                break;
            case Sparsification.Dare:
                DropAndRescale.Apply(taskVector, _densities[model], DropAndRescale.Stream(_seed, model, tensorName));
                break;
        }
    }

    /// <summary>Sign consensus, sum and normalisation, element by element.</summary>
    private void Combine(ReadOnlySpan<float[]> weighted, Span<float> output)
    {
        for (int e = 0; e < output.Length; e++)
        {
            int elected = _signConsensus ? ElectedSign(weighted, e) : 0;
            float sum = 0f, contributing = 0f;
            for (int i = 0; i < weighted.Length; i++)
            {
                float value = weighted[i][e];
                if (_signConsensus && Sign(value) != elected) continue;
                sum += value;
                contributing += _weights[i];
            }
            output[e] = _normalize ? sum / (MathF.Abs(contributing) < NegligibleDivisor ? 1f : contributing) : sum;
        }
    }

    private static int ElectedSign(ReadOnlySpan<float[]> weighted, int element)
    {
        float total = 0f;
        foreach (var taskVector in weighted) total += taskVector[element];
        return total >= 0 ? 1 : -1;
    }

    // A zero entry has sign 0, so it never agrees with the elected sign and never counts towards the divisor.
    private static int Sign(float value) => value > 0 ? 1 : value < 0 ? -1 : 0;
}
