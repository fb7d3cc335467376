using Mistral.C2F.Engine.Checkpoints;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// The input models of a merge, opened (headers only; weights are mapped and read one tensor at a time) and checked
/// against the base for architecture and tensors before anything is computed.
/// </summary>
internal sealed class MergeInputs : IDisposable
{
    private readonly List<MergeInput> _all;

    private MergeInputs(List<MergeInput> all, bool hasInstruct)
    {
        _all = all;
        Base = all[0].Checkpoint;
        Anchor = hasInstruct ? all[1].Checkpoint : Base;
        Models = all.Skip(hasInstruct ? 2 : 1).Select(input => input.Checkpoint).ToArray();
    }

    public SafeTensorsCheckpoint Base { get; }

    /// <summary>The model the merged task vector is added to; the base itself unless the merge has an instruct model.</summary>
    public SafeTensorsCheckpoint Anchor { get; }

    public IReadOnlyList<SafeTensorsCheckpoint> Models { get; }

    public static MergeInputs Open(MergeSpec spec)
    {
        var roles = new List<(string Role, string Directory)> { ("base", spec.Base) };
        if (spec.Instruct is not null) roles.Add(("instruct", spec.Instruct));
        for (int i = 0; i < spec.Models.Count; i++)
            roles.Add((spec.Method == MergeMethod.Krm ? "coarse" : $"models[{i}]", spec.Models[i].Path));

        var opened = new List<MergeInput>();
        try
        {
            foreach (var (role, directory) in roles) opened.Add(new MergeInput(role, SafeTensorsCheckpoint.Open(directory)));
            MergeCompatibility.RequireSameArchitecture(opened[0], opened.Skip(1));
            MergeCompatibility.RequireSameTensors(opened[0], opened.Skip(1));
            return new MergeInputs(opened, spec.Instruct is not null);
        }
        catch
        {
            foreach (var input in opened) input.Checkpoint.Dispose();
            throw;
        }
    }

    /// <summary>Refuses an output directory that is one of the inputs: replacing it would destroy a model being read.</summary>
    public void RequireNotAnInput(string outputDirectory)
    {
        foreach (var input in _all)
        {
            if (string.Equals(Path.TrimEndingDirectorySeparator(input.Directory), outputDirectory, StringComparison.Ordinal))
                throw new ArgumentException($"{outputDirectory}: the output directory is the {input.Role} model's; write the merge elsewhere");
        }
    }

    public void Dispose()
    {
        foreach (var input in _all) input.Checkpoint.Dispose();
    }
}
