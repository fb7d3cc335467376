namespace Mistral.C2F.Engine.Distributed;

/// <summary>The length rules of the block collectives (<see cref="ICommunicator.ReduceScatterSum"/>, <see cref="ICommunicator.AllGather(ReadOnlySpan{float}, Span{float})"/>).</summary>
internal static class Blocks
{
    /// <summary>Fails unless <paramref name="whole"/> is <paramref name="ranks"/> blocks of <paramref name="share"/>'s length.</summary>
    public static void Require(int share, int whole, int ranks, string collective)
    {
        if ((long)share * ranks != whole)
            throw new ArgumentException($"{collective}: {whole} elements are not {ranks} blocks of the share's {share}");
    }

    /// <summary>The one-rank collective: the single block is the share.</summary>
    public static void Copy<T>(ReadOnlySpan<T> source, Span<T> destination)
    {
        Require(Math.Min(source.Length, destination.Length), Math.Max(source.Length, destination.Length), ranks: 1, "collective");
        source.CopyTo(destination);
    }
}
