using System.Diagnostics;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// Runs a <see cref="MergeSpec"/> tensor by tensor through sharded safetensors: each tensor is read from every input
/// (memory-mapped, converted to float32), merged by <see cref="TaskVectorMerge"/> and written to the output shards.
/// </summary>
/// <remarks>
/// Managed memory is one float32 buffer per input model plus one for the output, each the size of the largest
/// tensor, allocated once and reused: (inputs + 1) × the largest tensor, whatever the size of the model. The output
/// directory appears only when complete (<see cref="StagedDirectory"/>).
/// </remarks>
public static class ModelMerger
{
    /// <param name="replace">Replace a non-empty <paramref name="outputDirectory"/>; otherwise it must be absent or empty.</param>
    public static MergeResult Run(MergeSpec spec, string outputDirectory, IProgress<MergeProgress>? progress = null, bool replace = false,
        CancellationToken cancellationToken = default)
    {
        spec.Validate();
        long started = Stopwatch.GetTimestamp();
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDirectory));
        StagedDirectory.RequireWritable(target, replace);
        using var inputs = MergeInputs.Open(spec);
        inputs.RequireNotAnInput(target);
        var storage = spec.Storage ?? ModelSideFiles.DefaultStorage(inputs.Anchor.Directory);
        var merge = TaskVectorMerge.For(spec);

        var written = StagedDirectory.Write(target, replace, staging =>
        {
            var weights = WriteWeights(inputs, merge, staging, SafeTensorsDTypes.FromEngine(storage), spec.MaxShardBytes, progress, cancellationToken);
            ModelSideFiles.Copy(inputs.Anchor.Directory, staging, storage);
            return weights;
        });
        var tensors = inputs.Base.Tensors;
        return new MergeResult(target, spec.Method, tensors.Count, tensors.Sum(info => info.Shape.ElementCount), storage, written.Files,
            written.BufferBytes, Stopwatch.GetElapsedTime(started));
    }

    private static (IReadOnlyList<string> Files, long BufferBytes) WriteWeights(MergeInputs inputs, TaskVectorMerge merge, string directory,
        SafeTensorsDType storage, long maxShardBytes, IProgress<MergeProgress>? progress, CancellationToken cancellationToken)
    {
        var tensors = inputs.Base.Tensors;
        int largest = checked((int)tensors.Select(info => info.Shape.ElementCount).DefaultIfEmpty(0).Max());
        var reference = new float[largest];
        // Task-vector merges add to the base itself: the anchor shares its buffer.
        var anchor = ReferenceEquals(inputs.Anchor, inputs.Base) ? reference : new float[largest];
        var models = inputs.Models.Select(_ => new float[largest]).ToArray();
        var output = new float[largest];
        long bufferBytes = (long)largest * sizeof(float) * (2 + models.Length + (anchor == reference ? 0 : 1));

        long done = 0, total = tensors.Sum(info => info.Shape.ElementCount);
        using var writer = new ShardedSafeTensorsWriter(directory, tensors.Select(info => info with { DType = storage }), maxShardBytes);
        for (int t = 0; t < tensors.Count; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = tensors[t].Name;
            int n = checked((int)tensors[t].Shape.ElementCount);
            // Non-finite inputs are refused with the file and element, rather than spreading NaN through the merge.
            inputs.Base.ReadFloats(name, reference.AsSpan(0, n), checkFinite: true);
            if (anchor != reference) inputs.Anchor.ReadFloats(name, anchor.AsSpan(0, n), checkFinite: true);
            for (int i = 0; i < models.Length; i++) inputs.Models[i].ReadFloats(name, models[i].AsSpan(0, n), checkFinite: true);
            merge.Merge(name, anchor.AsSpan(0, n), reference.AsSpan(0, n), models, output.AsSpan(0, n));
            writer.Write(name, output.AsSpan(0, n));
            done += n;
            progress?.Report(new MergeProgress(t + 1, tensors.Count, name, done, total));
        }
        writer.Commit();
        return (writer.FileNames, bufferBytes);
    }
}
