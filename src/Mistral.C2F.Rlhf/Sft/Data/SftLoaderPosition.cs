namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Where an <see cref="SftDataLoader"/> stands: the next batch starts at sequence <paramref name="Index"/> of epoch
/// <paramref name="Epoch"/>'s shuffled order, which depends only on <paramref name="Seed"/> and the epoch. Save it with a
/// checkpoint (it serialises as plain JSON) and construct a loader from it to resume exactly.
/// </summary>
public sealed record SftLoaderPosition(int Epoch, int Index, int Seed)
{
    public static SftLoaderPosition Start(int seed) => new(0, 0, seed);
}
