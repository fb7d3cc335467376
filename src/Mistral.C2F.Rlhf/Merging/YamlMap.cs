using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mistral.C2F.Rlhf.Merging;

/// <summary>
/// A YAML mapping read key by key with typed accessors; every error is an <see cref="InvalidDataException"/> naming the
/// file, the line and the full key (<c>models[1].weight</c>), so the user can go straight to it.
/// </summary>
internal sealed class YamlMap
{
    private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);
    private readonly YamlNode _node;
    private readonly string _prefix;

    private YamlMap(YamlMappingNode node, string source, string prefix)
    {
        (_node, Source, _prefix) = (node, source, prefix);
        foreach (var (key, value) in node.Children)
        {
            // The YAML parser itself refuses duplicate keys.
            if (key is not YamlScalarNode { Value: { } name }) throw Error(key, $"{prefix}<key>", "must be a plain name");
            _entries.Add(name, (key, value));
        }
    }

    public string Source { get; }

    /// <summary>The single document of <paramref name="text"/>, which must be a mapping (JSON objects are YAML mappings).</summary>
    public static YamlMap Parse(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}: line {e.Start.Line}: malformed YAML: {(e.InnerException ?? e).Message}", e);
        }
        if (stream.Documents.Count != 1) throw new InvalidDataException($"{source}: expected one YAML document, found {stream.Documents.Count}");
        return stream.Documents[0].RootNode is YamlMappingNode root
            ? new YamlMap(root, source, "")
            : throw new InvalidDataException($"{source}: line {stream.Documents[0].RootNode.Start.Line}: expected a mapping of keys (method, base, …)");
    }

    public void RejectUnknownKeys(IReadOnlyCollection<string> allowed, string context)
    {
        foreach (var (name, (key, _)) in _entries)
        {
            if (!allowed.Contains(name))
                throw Error(key, _prefix + name, $"is not a key of {context} (expected one of: {string.Join(", ", allowed)})");
        }
    }

    public string? String(string key) => Scalar(key) is { } scalar ? scalar.Value : null;

    public string RequiredString(string key, string meaning) =>
        String(key) ?? throw new InvalidDataException($"{Source}: line {_node.Start.Line}: missing '{_prefix}{key}' ({meaning})");

    /// <summary>A path, resolved against the directory of the description file.</summary>
    public string RequiredPath(string key, string meaning) =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Source) ?? "", RequiredString(key, meaning)));

    public double? Number(string key) => Parsed<double>(key, "a number",
        text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null);

    public float? Float(string key) => Number(key) is { } value ? (float)value : null;

    public ulong? UInt64(string key) => Parsed<ulong>(key, "a non-negative whole number",
        text => ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null);

    public long? Int64(string key) => Parsed<long>(key, "a whole number",
        text => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null);

    public bool? Bool(string key) => Parsed<bool>(key, "true or false", text => text switch { "true" => true, "false" => false, _ => null });

    /// <summary>One of <paramref name="choices"/>, by name.</summary>
    public T? Choice<T>(string key, IReadOnlyDictionary<string, T> choices) where T : struct => Parsed<T>(key,
        $"one of {string.Join(", ", choices.Keys)}", text => choices.TryGetValue(text, out var value) ? value : null);

    public bool IsMapping(string key) => _entries.TryGetValue(key, out var entry) && entry.Value is YamlMappingNode;

    public YamlMap? Mapping(string key)
    {
        if (!_entries.TryGetValue(key, out var entry)) return null;
        return entry.Value is YamlMappingNode mapping ? new YamlMap(mapping, Source, $"{_prefix}{key}.") : throw Error(entry.Value, _prefix + key, "must be a mapping");
    }

    /// <summary>A list of mappings, such as <c>models: [{path: …}, …]</c>.</summary>
    public IReadOnlyList<YamlMap> Mappings(string key, string meaning)
    {
        if (!_entries.TryGetValue(key, out var entry)) throw new InvalidDataException($"{Source}: line {_node.Start.Line}: missing '{_prefix}{key}' ({meaning})");
        if (entry.Value is not YamlSequenceNode sequence) throw Error(entry.Value, _prefix + key, "must be a list");
        return sequence.Children.Select((item, i) => item is YamlMappingNode mapping
            ? new YamlMap(mapping, Source, $"{_prefix}{key}[{i}].")
            : throw Error(item, $"{_prefix}{key}[{i}]", "must be a mapping")).ToArray();
    }

    private YamlScalarNode? Scalar(string key)
    {
        if (!_entries.TryGetValue(key, out var entry)) return null;
        if (entry.Value is not YamlScalarNode scalar) throw Error(entry.Value, _prefix + key, "must be a single value");
        // A blank value, or YAML's null (~), is a key left unfinished, not a value.
        if (scalar.Value is null or "" || (scalar.Style == ScalarStyle.Plain && scalar.Value is "~" or "null"))
            throw Error(entry.Value, _prefix + key, "has no value");
        return scalar;
    }

    private T? Parsed<T>(string key, string expected, Func<string, T?> parse) where T : struct
    {
        if (Scalar(key) is not { } scalar) return null;
        return parse(scalar.Value ?? "") ?? throw Error(scalar, _prefix + key, $"must be {expected}, got '{scalar.Value}'");
    }

    private InvalidDataException Error(YamlNode node, string key, string problem) => new($"{Source}: line {node.Start.Line}: '{key}' {problem}");
}
