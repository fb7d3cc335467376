using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

/// <summary>What a model file may be: a regular file, and a link only within its directory or into a Hugging Face cache's blobs.</summary>
[Trait("Backend", "cpu")]
public sealed class ModelFilesTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private static readonly MistralConfig Tiny = new()
    {
        VocabSize = 16, HiddenSize = 8, IntermediateSize = 12, NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 1,
        SlidingWindow = null,
    };

    private string WriteModel(string directory)
    {
        MistralCheckpoint.SaveParameters(directory, Tiny, (_, _, values) => values.Fill(0.5f), DType.F32, MistralCheckpoint.DefaultMaxShardBytes);
        return directory;
    }

    /// <summary>The layout the Hub client writes: snapshots/REV/file is a relative link to ../../blobs/HASH.</summary>
    [Fact]
    public void A_hugging_face_cache_snapshot_whose_files_link_into_its_blobs_loads()
    {
        var repository = _directory.File("models--org--tiny");
        var written = WriteModel(Path.Combine(repository, "written"));
        var (blobs, snapshot) = (Path.Combine(repository, "blobs"), Path.Combine(repository, "snapshots", "abc123"));
        Directory.CreateDirectory(blobs);
        Directory.CreateDirectory(snapshot);
        foreach (var file in Directory.EnumerateFiles(written))
        {
            var blob = Path.Combine(blobs, Guid.NewGuid().ToString("N"));
            File.Move(file, blob);
            File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), Path.Combine("..", "..", "blobs", Path.GetFileName(blob)));
        }
        using var backend = new Backends.Cpu.CpuBackend(1);
        using var model = MistralCheckpoint.LoadModel(snapshot, backend);
        Assert.Equal(16, model.Config.VocabSize);
    }

    [Fact]
    public void A_link_inside_the_model_directory_is_followed_and_one_leading_out_is_refused()
    {
        var model = WriteModel(_directory.File("model"));
        File.Move(Path.Combine(model, "model.safetensors"), Path.Combine(model, "weights.bin"));
        File.CreateSymbolicLink(Path.Combine(model, "model.safetensors"), "weights.bin");
        ModelFiles.RequireWithin(Path.Combine(model, "model.safetensors"), model);

        var outside = _directory.File("elsewhere.safetensors");
        File.Move(Path.Combine(model, "weights.bin"), outside);
        File.Delete(Path.Combine(model, "model.safetensors"));
        File.CreateSymbolicLink(Path.Combine(model, "model.safetensors"), outside);
        var error = Assert.Throws<IOException>(() => SafeTensorsCheckpoint.Open(model));
        Assert.Contains($"model.safetensors: a symbolic link to {outside}, outside the model directory", error.Message);
    }

    [Fact]
    public void A_directory_or_a_device_in_place_of_a_file_is_refused()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("device files and statx are Linux's");
        Assert.Contains("not a regular file (a character device)", Assert.Throws<IOException>(() => ModelFiles.RequireRegularFile("/dev/zero")).Message);
        ModelFiles.RequireRegularFile(_directory.File("missing")); // a missing file is the caller's message
    }
}
