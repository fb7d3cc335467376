using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// A Hugging Face <c>MistralForCausalLM</c> model directory: <c>config.json</c> plus safetensors weights
/// named and shaped as <see cref="MistralParameterNames.For"/> says.
/// </summary>
public static class MistralCheckpoint
{
    public const string ConfigFileName = "config.json";

    /// <summary>Hugging Face's default shard size ("5GB").</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    public static MistralConfig LoadConfig(string modelDirectory)
    {
        var path = Path.Combine(Path.GetFullPath(modelDirectory), ConfigFileName);
        if (!File.Exists(path)) throw new CheckpointException(path, $"{ConfigFileName} not found in the model directory");
        ModelFiles.RequireWithin(path, modelDirectory);
        return MistralConfig.Load(path);
    }

    /// <summary>
    /// config.json and the weights of a model directory, as a model on <paramref name="backend"/>. A NaN or infinity in a
    /// weight is an error naming the tensor and the element unless <paramref name="allowNonFinite"/> (then it propagates
    /// through every op as IEEE arithmetic does).
    /// </summary>
    public static MistralModel LoadModel(string modelDirectory, Backend backend, bool allowNonFinite = false)
    {
        var config = LoadConfig(modelDirectory);
        return new MistralModel(config, backend, LoadParameters(modelDirectory, config, backend, allowNonFinite));
    }

    /// <summary>
    /// A sequence classifier (reward model, critic) from a model directory: as saved when it is one; from a causal
    /// language model, its backbone with a zero score head (so it starts by scoring everything 0, and the head
    /// learns before it moves the backbone), dropping lm_head.
    /// </summary>
    public static MistralModel LoadSequenceClassifier(string modelDirectory, Backend backend, bool allowNonFinite = false)
    {
        var config = LoadConfig(modelDirectory);
        if (config.IsSequenceClassifier) return LoadModel(modelDirectory, backend, allowNonFinite);
        var parameters = new Dictionary<string, Tensor>(LoadParameters(modelDirectory, config, backend, allowNonFinite));
        if (parameters.Remove(MistralParameterNames.LmHead, out var lmHead)) lmHead.Dispose();
        var score = backend.Allocate(new Shape(1, config.HiddenSize), backend.FloatType);
        backend.Zero(score);
        parameters[MistralParameterNames.ScoreHead] = score;
        return new MistralModel(config with { Architecture = MistralConfig.SequenceClassification }, backend, parameters);
    }

    /// <summary>
    /// Loads every parameter of <paramref name="config"/> onto the backend in its float type, one tensor
    /// at a time (host memory: one float32 buffer the size of the largest tensor). The checkpoint must hold
    /// exactly these tensors with these shapes. A tied checkpoint may also hold <c>lm_head.weight</c>
    /// (Hugging Face sometimes saves the tied copy): it is accepted when it equals the embedding, which the model
    /// reads, and refused when it differs (which of the two the checkpoint means is then unknowable).
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> LoadParameters(string modelDirectory, MistralConfig config, Backend backend,
        bool allowNonFinite = false)
    {
        using var checkpoint = SafeTensorsCheckpoint.Open(modelDirectory);
        var expected = MistralParameterNames.For(config);
        RequireMatchingTensors(checkpoint, config, expected);
        if (config.TieWordEmbeddings && checkpoint.Contains(MistralParameterNames.LmHead)) RequireTiedCopy(checkpoint);
        bool checkFinite = !allowNonFinite;

        var scratch = new float[expected.Max(parameter => parameter.Shape.ElementCount)];
        var loaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, shape) in expected)
            {
                var values = scratch.AsSpan(0, checked((int)shape.ElementCount));
                checkpoint.ReadFloats(name, values, checkFinite);
                var tensor = backend.Allocate(shape, backend.FloatType);
                loaded.Add(name, tensor);
                backend.Upload(values, tensor);
            }
        }
        catch
        {
            foreach (var tensor in loaded.Values) tensor.Dispose();
            throw;
        }
        return loaded;
    }

    /// <summary>
    /// Saves parameters as <paramref name="storage"/> (F32, BF16 or F16), sharded when larger than
    /// <paramref name="maxShardBytes"/>, then config.json with torch_dtype set to the storage type.
    /// </summary>
    public static void SaveParameters(string modelDirectory, MistralConfig config, IEnumerable<(string Name, Tensor Tensor)> parameters,
        DType storage, long maxShardBytes)
    {
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in parameters)
        {
            if (!byName.TryAdd(name, tensor)) throw new ArgumentException($"parameter '{name}' is given twice");
        }
        var expected = MistralParameterNames.For(config);
        var problems = new List<string>();
        var missing = expected.Where(parameter => !byName.ContainsKey(parameter.Name)).Select(parameter => parameter.Name).ToArray();
        if (missing.Length > 0) problems.Add($"missing {Lists.Abbreviate(missing)}");
        var unexpected = byName.Keys.Except(expected.Select(parameter => parameter.Name)).ToArray();
        if (unexpected.Length > 0) problems.Add($"unexpected {Lists.Abbreviate(unexpected)}");
        foreach (var (name, shape) in expected)
        {
            if (byName.TryGetValue(name, out var tensor) && !tensor.Shape.Equals(shape))
                problems.Add($"'{name}' is {tensor.Shape}, the config implies {shape}");
        }
        if (problems.Count > 0) throw new ArgumentException($"the parameters do not match the config: {string.Join("; ", problems)}");

        SaveParameters(modelDirectory, config, (name, _, destination) => byName[name].Backend.Download(byName[name], destination),
            storage, maxShardBytes);
    }

    /// <summary>
    /// Saves parameters produced one at a time, in the order of <see cref="MistralParameterNames.For"/>,
    /// so that a large random init never holds more than one float32 tensor in host memory.
    /// </summary>
    public static void SaveParameters(string modelDirectory, MistralConfig config, ParameterProducer produce, DType storage,
        long maxShardBytes)
    {
        var storageDType = SafeTensorsDTypes.FromEngine(storage);
        if (!SafeTensorsDTypes.WritableFromFloat.Contains(storageDType))
            throw new ArgumentException($"checkpoints are stored as F32, BF16 or F16, not {storage}", nameof(storage));
        var parameters = MistralParameterNames.For(config);
        var scratch = new float[parameters.Max(parameter => parameter.Shape.ElementCount)];
        using (var writer = new ShardedSafeTensorsWriter(modelDirectory,
            parameters.Select(parameter => new SafeTensorInfo(parameter.Name, storageDType, parameter.Shape)), maxShardBytes))
        {
            foreach (var (name, shape) in parameters)
            {
                var values = scratch.AsSpan(0, checked((int)shape.ElementCount));
                produce(name, shape, values);
                writer.Write(name, values);
            }
            writer.Commit();
        }
        (config with { TorchDtype = TorchDtypeName(storage) }).Save(Path.Combine(modelDirectory, ConfigFileName));
    }

    /// <summary>config.json's torch_dtype for a storage type.</summary>
    public static string TorchDtypeName(DType storage) => storage switch
    {
        DType.F32 => "float32",
        DType.BF16 => "bfloat16",
        DType.F16 => "float16",
        _ => throw new ArgumentOutOfRangeException(nameof(storage), storage, "not a checkpoint storage type"),
    };

    /// <summary>A storage type by its short name (f32, bf16, f16) or its torch_dtype (float32, bfloat16, float16).</summary>
    public static DType ParseStorage(string name) => name switch
    {
        "f32" or "float32" => DType.F32,
        "bf16" or "bfloat16" => DType.BF16,
        "f16" or "float16" => DType.F16,
        _ => throw new ArgumentException($"unsupported storage dtype '{name}' (use f32, bf16 or f16)"),
    };

    private static void RequireTiedCopy(SafeTensorsCheckpoint checkpoint)
    {
        var (embedding, head) = (checkpoint.ReadFloats(MistralParameterNames.Embedding), checkpoint.ReadFloats(MistralParameterNames.LmHead));
        // Compared as bits: a saved tied copy is the same matrix, element for element.
        int first = MemoryMarshal.Cast<float, int>(embedding.AsSpan()).CommonPrefixLength(MemoryMarshal.Cast<float, int>(head.AsSpan()));
        if (first < embedding.Length)
            throw new CheckpointException(checkpoint.FileOf(MistralParameterNames.LmHead),
                $"config.json sets tie_word_embeddings, but '{MistralParameterNames.LmHead}' differs from '{MistralParameterNames.Embedding}' " +
                $"(first at element {first}); a tied model has one matrix: remove lm_head.weight or set tie_word_embeddings to false");
    }

    private static void RequireMatchingTensors(SafeTensorsCheckpoint checkpoint, MistralConfig config,
        IReadOnlyList<(string Name, Shape Shape)> expected)
    {
        var missing = expected.Where(parameter => !checkpoint.Contains(parameter.Name)).Select(parameter => parameter.Name).ToArray();
        if (missing.Length > 0)
            throw new CheckpointException(checkpoint.SourcePath, $"missing tensor(s) {Lists.Abbreviate(missing)}");

        var expectedNames = expected.Select(parameter => parameter.Name).ToHashSet(StringComparer.Ordinal);
        var tiedHeadShape = new Shape(config.VocabSize, config.HiddenSize);
        var unexpected = checkpoint.Tensors
            .Where(info => !expectedNames.Contains(info.Name))
            .Where(info => !(config.TieWordEmbeddings && info.Name == MistralParameterNames.LmHead && info.Shape.Equals(tiedHeadShape)))
            .Select(info => info.Name)
            .ToArray();
        if (unexpected.Length > 0)
            throw new CheckpointException(checkpoint.SourcePath, $"unexpected tensor(s) {Lists.Abbreviate(unexpected)} for this config");

        foreach (var (name, shape) in expected)
        {
            var info = checkpoint.Info(name);
            if (!info.Shape.Equals(shape))
                throw new CheckpointException(checkpoint.FileOf(name), $"tensor '{name}' has shape {info.Shape}, but the model config implies {shape}");
            if (!SafeTensorsDTypes.ReadableAsFloat.Contains(info.DType))
                throw new CheckpointException(checkpoint.FileOf(name),
                    $"tensor '{name}' has unsupported dtype {info.DType.FormatName()} for a model parameter");
        }
    }
}
