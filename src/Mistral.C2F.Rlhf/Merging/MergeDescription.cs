using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// A merge described in YAML (or JSON, which YAML reads as it is), in the spirit of mergekit's configuration:
/// <code>
/// method: ties                 # krm | task_arithmetic | ties | dare_linear | dare_ties
/// base: ../base                # paths are relative to this file
/// models:
///   - {path: ../math, weight: 0.6, density: 0.5}
///   - {path: ../code, weight: 0.4}
/// density: 0.7                 # for models without their own
/// lambda: {default: 1.0, embeddings: 0.0, norms: 0.5}   # or one number for every group
/// normalize: true              # task-vector methods; default per method
/// seed: 0                      # DARE's draws
/// dtype: bf16                  # f32 | bf16 | f16; default the anchor's torch_dtype
/// shard_size: 5000000000       # bytes
/// </code>
/// KRM takes <c>coarse</c>, <c>instruct</c> and <c>refine: none | trim | dare</c> instead of <c>models</c> and <c>normalize</c>.
/// Unknown keys, wrong types and settings without effect are errors naming the file, the line and the key.
/// </summary>
public static class MergeDescription
{
    private static readonly string[] CommonKeys = ["method", "base", "lambda", "density", "seed", "dtype", "shard_size"];
    private static readonly string[] KrmKeys = [.. CommonKeys, "coarse", "instruct", "refine"];
    private static readonly string[] TaskVectorKeys = [.. CommonKeys, "models", "normalize"];
    private static readonly string[] ModelKeys = ["path", "weight", "density"];
    private static readonly string[] LambdaKeys = ["default", "embeddings", "attention", "mlp", "norms"];

    private static readonly IReadOnlyDictionary<string, Sparsification> Refinements =
        Enum.GetValues<Sparsification>().ToDictionary(refinement => refinement.Name());

    private static readonly IReadOnlyDictionary<string, Engine.Tensors.DType> StorageTypes =
        new[] { "f32", "bf16", "f16", "float32", "bfloat16", "float16" }.ToDictionary(name => name, MistralCheckpoint.ParseStorage);

    public static MergeSpec Load(string path)
    {
        path = Path.GetFullPath(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: merge description not found", path);
        ModelFiles.RequireRegularFile(path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <param name="sourcePath">The file the text came from: errors name it, and relative model paths start from its directory.</param>
    public static MergeSpec Parse(string text, string sourcePath)
    {
        var root = YamlMap.Parse(text, sourcePath);
        var methodName = root.RequiredString("method", string.Join(" | ", MergeMethods.Names));
        if (!MergeMethods.TryParse(methodName, out var method))
            throw new InvalidDataException($"{sourcePath}: 'method' must be one of {string.Join(", ", MergeMethods.Names)}, got '{methodName}'");
        bool krm = method == MergeMethod.Krm;
        root.RejectUnknownKeys(krm ? KrmKeys : TaskVectorKeys, $"a {methodName} merge");

        var spec = new MergeSpec
        {
            Method = method,
            Base = root.RequiredPath("base", "the model the residues are measured from"),
            Instruct = krm ? root.RequiredPath("instruct", "the instruction model the residue is merged into") : null,
            Models = krm ? [new MergeModel(root.RequiredPath("coarse", "the Coarse Actor"))] : ReadModels(root),
            Lambda = ReadLambda(root),
            Refine = root.Choice("refine", Refinements) ?? Sparsification.None,
            Density = root.Number("density"),
            Normalize = root.Bool("normalize"),
            Seed = root.UInt64("seed") ?? 0,
            Storage = root.Choice("dtype", StorageTypes),
            MaxShardBytes = root.Int64("shard_size") ?? MistralCheckpoint.DefaultMaxShardBytes,
        };
        try
        {
            spec.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{sourcePath}: {e.Message}", e);
        }
        return spec;
    }

    private static MergeModel[] ReadModels(YamlMap root) =>
        root.Mappings("models", "the models whose task vectors are merged").Select(model =>
        {
            model.RejectUnknownKeys(ModelKeys, "a model entry");
            return new MergeModel(model.RequiredPath("path", "the model directory"), model.Float("weight") ?? 1f, model.Number("density"));
        }).ToArray();

    /// <summary><c>lambda: 0.8</c> sets every group; a mapping sets groups one by one.</summary>
    private static GroupLambdas ReadLambda(YamlMap root)
    {
        if (!root.IsMapping("lambda")) return new GroupLambdas(root.Float("lambda") ?? 1f);
        var lambda = root.Mapping("lambda")!;
        lambda.RejectUnknownKeys(LambdaKeys, "'lambda'");
        return new GroupLambdas(lambda.Float("default") ?? 1f, lambda.Float("embeddings"), lambda.Float("attention"), lambda.Float("mlp"), lambda.Float("norms"));
    }
}
