namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>
/// A checkpoint file or directory that cannot be used as it is. The message always starts with the file
/// and then says what is wrong, so a user can find and fix the input.
/// </summary>
/// <remarks>
/// An <see cref="IOException"/> (InvalidDataException is sealed), so one <c>catch (IOException)</c> covers
/// bad input and failing disks alike.
/// </remarks>
public sealed class CheckpointException : IOException
{
    public CheckpointException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    public string FilePath { get; }
    public string Problem { get; }
}
