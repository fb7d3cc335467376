namespace Mistral.C2F.Engine.Cuda;

/// <summary>A grid or block extent, as CUDA's dim3: unused dimensions are 1.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <summary>X·Y·Z: the threads of a block or the blocks of a grid.</summary>
    public ulong Volume => (ulong)X * Y * Z;

    public override string ToString() => $"({X}, {Y}, {Z})";
}
