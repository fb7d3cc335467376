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
}
