namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>An example's token ids and, per id, whether the model is trained to predict it.</summary>
public sealed record TokenizedExample
{
    public TokenizedExample(int[] ids, bool[] lossMask)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(lossMask);
        if (ids.Length != lossMask.Length)
            throw new ArgumentException($"{ids.Length} ids but {lossMask.Length} loss-mask entries", nameof(lossMask));
        Ids = ids;
        LossMask = lossMask;
    }

    public int[] Ids { get; }
    public bool[] LossMask { get; }
}
