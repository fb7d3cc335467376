namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>One rendered plot of the report: the PNG's file name, its caption and its bytes.</summary>
public sealed record PpoPlot(string FileName, string Caption, byte[] Png);
