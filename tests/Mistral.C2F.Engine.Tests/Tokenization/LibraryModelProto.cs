using System.Collections;
using Microsoft.ML.Tokenizers;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>
/// Reads a tokenizer.model back with the protobuf classes generated inside Microsoft.ML.Tokenizers (internal, hence
/// reflection), so the file is checked by an independent parser of sentencepiece_model.proto, not by our own writer.
/// </summary>
public sealed class LibraryModelProto
{
    private readonly object _model;

    private LibraryModelProto(object model) => _model = model;

    public static LibraryModelProto Parse(byte[] bytes)
    {
        var type = typeof(LlamaTokenizer).Assembly.GetType("Sentencepiece.ModelProto", throwOnError: true)!;
        var parser = type.GetProperty("Parser")!.GetValue(null)!;
        return new LibraryModelProto(parser.GetType().GetMethod("ParseFrom", [typeof(byte[])])!.Invoke(parser, [bytes])!);
    }

    /// <summary>A field by its generated property path, e.g. "TrainerSpec.ByteFallback".</summary>
    public object? Field(string path) =>
        path.Split('.').Aggregate<string, object?>(_model, (value, name) => value!.GetType().GetProperty(name)!.GetValue(value));

    public IReadOnlyList<(string Piece, float Score, string Type)> Pieces() =>
        ((IEnumerable)Field("Pieces")!).Cast<object>()
            .Select(p => ((string)Get(p, "Piece"), (float)Get(p, "Score"), Get(p, "Type").ToString()!))
            .ToList();

    private static object Get(object value, string name) => value.GetType().GetProperty(name)!.GetValue(value)!;
}
