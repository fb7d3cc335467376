using System.Text;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>A GitHub-flavoured Markdown table: a leading name column left-aligned, number columns right-aligned.</summary>
public static class MarkdownTable
{
    public static string Render(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, bool firstColumnIsName = true)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var table = new StringBuilder();
        Line(table, headers);
        Line(table, headers.Select((_, i) => i == 0 && firstColumnIsName ? ":---" : "---:").ToArray());
        foreach (var row in rows)
        {
            if (row.Count != headers.Count)
                throw new ArgumentException($"A row has {row.Count} cells but the table has {headers.Count} columns.", nameof(rows));
            Line(table, row);
        }
        return table.ToString();
    }

    // A "|" inside a cell would start a new column.
    private static void Line(StringBuilder table, IReadOnlyList<string> cells) =>
        table.Append("| ").AppendJoin(" | ", cells.Select(cell => cell.Replace("|", "\\|", StringComparison.Ordinal))).Append(" |\n");
}
