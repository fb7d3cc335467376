using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Mistral.C2F.Benchmarks;

/// <summary>A summary column of work per second: the work one invocation does (FLOPs, tokens) over its mean time.</summary>
/// <param name="work">The work of one invocation of a case, in the column's unit; null when it does not apply.</param>
public sealed class ThroughputColumn(string name, string legend, Func<BenchmarkCase, double?> work, string format = "F1") : IColumn
{
    public string Id => $"{nameof(ThroughputColumn)}.{name}";
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics is { } statistics && work(benchmarkCase) is double amount
            ? (amount / (statistics.Mean * 1e-9)).ToString(format)
            : "NA";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
}
