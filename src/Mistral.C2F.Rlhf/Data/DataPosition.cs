namespace Mistral.C2F.Rlhf.Data;

/// <summary>
/// Where an epoch-shuffled stream stands: the next item is number <paramref name="Index"/> of epoch
/// <paramref name="Epoch"/>'s shuffled order, which depends only on <paramref name="Seed"/> and the epoch. Save it with a
/// checkpoint (it serialises as plain JSON) and construct a stream from it to resume exactly.
/// </summary>
public sealed record DataPosition(int Epoch, int Index, int Seed)
{
    public static DataPosition Start(int seed) => new(0, 0, seed);
}
