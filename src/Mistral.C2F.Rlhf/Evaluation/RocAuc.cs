namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// The area under the ROC curve of scores against binary labels: the probability that a random positive scores above a
/// random negative, ties counted half (the Mann–Whitney statistic). Null when either class is empty.
/// </summary>
public static class RocAuc
{
    public static double? Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        if (scores.Count != positive.Count) throw new ArgumentException($"{scores.Count} scores but {positive.Count} labels");
        int positives = positive.Count(p => p), negatives = positive.Count - positives;
        if (positives == 0 || negatives == 0) return null;
        // Average ranks of tied scores, then the rank sum of the positives.
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[scores.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            for (int k = start; k <= end; k++) ranks[order[k]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        double positiveRanks = Enumerable.Range(0, scores.Count).Where(i => positive[i]).Sum(i => ranks[i]);
        return (positiveRanks - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>
    /// The same statistic over the pairs within each group of <paramref name="groupSize"/> consecutive items (the answers to one
    /// prompt): the ranking a pairwise loss trains, free of how the groups' score levels compare. Null when no group has both.
    /// </summary>
    public static double? WithinGroups(IReadOnlyList<double> scores, IReadOnlyList<bool> positive, int groupSize)
    {
        if (scores.Count != positive.Count) throw new ArgumentException($"{scores.Count} scores but {positive.Count} labels");
        ArgumentOutOfRangeException.ThrowIfLessThan(groupSize, 1);
        if (scores.Count % groupSize != 0) throw new ArgumentException($"{scores.Count} scores do not split into groups of {groupSize}");
        double wins = 0;
        long pairs = 0;
        for (int group = 0; group < scores.Count; group += groupSize)
        for (int i = group; i < group + groupSize; i++)
        for (int j = group; j < group + groupSize; j++)
        {
            if (!positive[i] || positive[j]) continue;
            pairs++;
            wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
        }
        return pairs == 0 ? null : wins / pairs;
    }
}
