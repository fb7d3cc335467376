namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>A tensor and where its bytes lie, as offsets into the data region that follows the header.</summary>
internal readonly record struct SafeTensorEntry(SafeTensorInfo Info, long Begin, long End);
