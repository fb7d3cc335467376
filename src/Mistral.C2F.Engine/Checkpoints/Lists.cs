namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>Names in error messages: enough to act on, never a wall of text.</summary>
internal static class Lists
{
    public static string Abbreviate(IEnumerable<string> names, int shown = 5)
    {
        var all = names.ToArray();
        var text = string.Join(", ", all.Take(shown).Select(name => $"'{name}'"));
        return all.Length > shown ? $"{text} and {all.Length - shown} more" : text;
    }
}
