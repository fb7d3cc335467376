using Mistral.C2F.Rlhf.Ppo;

namespace Mistral.C2F.Rlhf.Tests.Ppo.Support;

/// <summary>Per-token test inputs in the <see cref="ResponseLayout"/>, with NaN in every padding slot: math that read padding would return NaN.</summary>
internal static class PaddedBatch
{
    public static ResponseLayout Layout(int width, params double[][] rows) => new(width, rows.Select(r => r.Length).ToArray());

    public static double[] Flatten(int width, params double[][] rows)
    {
        var flat = new double[rows.Length * width];
        Array.Fill(flat, double.NaN);
        for (int row = 0; row < rows.Length; row++) rows[row].CopyTo(flat, row * width);
        return flat;
    }

    /// <summary>A layout of random lengths 1…width.</summary>
    public static ResponseLayout RandomLayout(Random random, int rows, int width) =>
        new(width, Enumerable.Range(0, rows).Select(_ => random.Next(1, width + 1)).ToArray());

    /// <summary>Uniform values in [min, max) on real tokens, NaN on padding.</summary>
    public static double[] Random(Random random, ResponseLayout layout, double min, double max)
    {
        var values = new double[layout.Slots];
        Array.Fill(values, double.NaN);
        for (int row = 0; row < layout.Rows; row++)
            for (int i = layout.Start(row); i <= layout.Last(row); i++) values[i] = min + (max - min) * random.NextDouble();
        return values;
    }

    public static IEnumerable<int> PaddingSlots(ResponseLayout layout) =>
        Enumerable.Range(0, layout.Rows).SelectMany(row => Enumerable.Range(layout.Last(row) + 1, layout.Start(row) + layout.Width - layout.Last(row) - 1));

    public static IEnumerable<int> RealSlots(ResponseLayout layout) =>
        Enumerable.Range(0, layout.Rows).SelectMany(row => Enumerable.Range(layout.Start(row), layout.Lengths[row]));
}
