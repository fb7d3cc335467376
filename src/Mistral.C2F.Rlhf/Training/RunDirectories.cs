using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Rlhf.Training;

/// <summary>The checks every trainer makes of its run directory: a new run starts empty, a resumed one from its latest checkpoint, on the same data.</summary>
public static class RunDirectories
{
    /// <summary>Refuses a directory that already holds checkpoints: a new run there would mix with them.</summary>
    public static void RequireNoCheckpoints(string runDirectory)
    {
        if (new CheckpointDirectory(runDirectory).Latest is { } existing)
            throw new IOException($"{Path.GetFullPath(runDirectory)} already holds checkpoints ({Path.GetFileName(existing)}); resume it or choose another output directory");
    }

    /// <summary>The checkpoint a resumed run continues from.</summary>
    public static string LatestCheckpoint(string runDirectory) =>
        new CheckpointDirectory(runDirectory).Latest ?? throw new IOException($"{Path.GetFullPath(runDirectory)} has no checkpoint to resume from; start the run again without --resume");

    /// <summary>
    /// The tokenizer a resumed run continues with: its checkpoint's; for a checkpoint written without one (by c2f before
    /// checkpoints always carried it), the one of the model the run started from, with a warning. The data fingerprint
    /// check that follows refuses a tokenizer that changed what the data means.
    /// </summary>
    public static TokenizerFiles ResumedTokenizer(string checkpoint, string startingModel)
    {
        if (TokenizerFiles.Exist(checkpoint) || !TokenizerFiles.Exist(startingModel))
            return TokenizerFiles.Read(checkpoint);
        Warnings.Report($"{checkpoint} holds no {MistralTokenizer.ModelFileName}; taking the tokenizer of {startingModel}, where the run started");
        return TokenizerFiles.Read(startingModel);
    }

    /// <summary>Refuses to resume on data whose tokenized fingerprint differs from the one the checkpoint recorded.</summary>
    public static void RequireSameData(string dataPath, string checkpoint, string fingerprint, string recordedFingerprint)
    {
        if (fingerprint != recordedFingerprint)
            throw new InvalidDataException($"{dataPath}: the data changed since {checkpoint} was written (fingerprint {fingerprint}, expected {recordedFingerprint})");
    }
}
