using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// A merge to run: the method, its input model directories and every setting. Built by <see cref="MergeDescription"/>
/// from YAML or JSON, or directly (the console's KRM options). <see cref="Validate"/> names the offending key.
/// </summary>
public sealed record MergeSpec
{
    /// <summary>The model every task vector is measured from (θ_base).</summary>
    public required string Base { get; init; }

    public required MergeMethod Method { get; init; }

    /// <summary>KRM only: the instruction model the refined residue is added to. The task-vector methods add to the base.</summary>
    public string? Instruct { get; init; }

    /// <summary>The models whose task vectors are merged; for KRM, the Coarse Actor alone.</summary>
    public required IReadOnlyList<MergeModel> Models { get; init; }

    public GroupLambdas Lambda { get; init; } = new();

    /// <summary>KRM's refinement of the residue; each task-vector method fixes its own (<see cref="MergeMethods.FixedSparsification"/>).</summary>
    public Sparsification Refine { get; init; } = Sparsification.None;

    /// <summary>The density of every model that does not give its own.</summary>
    public double? Density { get; init; }

    /// <summary>Divide the merged task vector by the weights that contributed; null takes the method's default.</summary>
    public bool? Normalize { get; init; }

    /// <summary>Seeds DARE's draws (<see cref="DropAndRescale.Stream"/>).</summary>
    public ulong Seed { get; init; }

    /// <summary>Storage type of the output (F32, BF16 or F16); null keeps the anchor model's torch_dtype.</summary>
    public DType? Storage { get; init; }

    public long MaxShardBytes { get; init; } = MistralCheckpoint.DefaultMaxShardBytes;

    /// <summary>The model the merged task vector is added to: the instruct model for KRM, else the base.</summary>
    public string Anchor => Instruct ?? Base;

    public Sparsification Sparsification => Method == MergeMethod.Krm ? Refine : Method.FixedSparsification();

    public bool Normalizes => Normalize ?? Method.NormalizesByDefault();

    /// <summary>A model's density: its own, else the spec's, else 1 (used only when nothing is sparsified).</summary>
    public double DensityOf(MergeModel model) => model.Density ?? Density ?? 1.0;

    /// <summary>KRM of a Coarse Actor trained from <paramref name="baseModel"/> into <paramref name="instruct"/>, with λ = 1 and no refinement.</summary>
    public static MergeSpec Krm(string baseModel, string coarse, string instruct) => new()
    {
        Method = MergeMethod.Krm, Base = baseModel, Instruct = instruct, Models = [new MergeModel(coarse)],
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is missing, out of range or has no effect.</summary>
    public void Validate()
    {
        if (Method == MergeMethod.Krm)
        {
            Require(Instruct is not null, "krm needs 'instruct', the model the residue is merged into");
            Require(Models.Count == 1, $"krm merges exactly one residue ('coarse'), not {Models.Count} models");
            Require(Normalize is null, "'normalize' applies to the task-vector methods, not krm");
        }
        else
        {
            Require(Instruct is null, $"'instruct' belongs to krm; {Method.Name()} adds to 'base'");
            Require(Models.Count > 0, $"{Method.Name()} needs at least one entry in 'models'");
            Require(Refine == Sparsification.None, $"'refine' belongs to krm; {Method.Name()} always uses {Method.FixedSparsification().Name()}");
        }

        for (int i = 0; i < Models.Count; i++)
        {
            var key = Method == MergeMethod.Krm ? "coarse" : $"models[{i}]";
            Require(float.IsFinite(Models[i].Weight), $"'{key}.weight' must be a finite number, got {Models[i].Weight}");
            RequireDensity(Models[i].Density, $"{key}.density");
        }
        RequireDensity(Density, "density");
        if (Sparsification == Sparsification.None)
        {
            Require(Density is null && Models.All(model => model.Density is null),
                $"'density' has no effect: {Describe()} does not sparsify");
        }
        else
        {
            Require(Models.All(model => (model.Density ?? Density) is not null),
                $"{Describe()} needs a 'density'{(Method == MergeMethod.Krm ? "" : " (at the top level or for every model)")}");
        }

        foreach (var (key, value) in Lambda.Entries())
            Require(value is null || float.IsFinite(value.Value), $"'lambda.{key}' must be a finite number, got {value}");
        Require(Storage is null or DType.F32 or DType.BF16 or DType.F16, $"'dtype' must be f32, bf16 or f16, not {Storage}");
        Require(MaxShardBytes > 0, $"'shard_size' must be a positive number of bytes, got {MaxShardBytes}");
    }

    /// <summary>The method as the user chose it: KRM with its refinement.</summary>
    private string Describe() => Method == MergeMethod.Krm ? $"krm with refine: {Refine.Name()}" : Method.Name();

    private static void RequireDensity(double? density, string key) =>
        Require(density is null or (> 0 and <= 1), $"'{key}' must be in (0, 1], got {density}");

    private static void Require(bool condition, string problem)
    {
        if (!condition) throw new ArgumentException(problem);
    }
}
