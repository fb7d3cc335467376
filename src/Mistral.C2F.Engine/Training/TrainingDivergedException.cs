namespace Mistral.C2F.Engine.Training;

/// <summary>Too many steps in a row had a non-finite loss or gradient; the run stops and keeps its last good checkpoint.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);
