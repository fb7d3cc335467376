using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// Where a layer's attention finds its keys: the chunk's own keys (a full forward pass) or a KV cache
/// that adds the keys of earlier chunks. Keys arrive rotary-embedded.
/// </summary>
public interface IKeyValueContext
{
    /// <summary>Keys and values [B, Sk, Hkv·D] and their positions [B, Sk] for the current chunk's queries.</summary>
    (Tensor Keys, Tensor Values, Tensor Positions) Attend(int layer, Tensor chunkKeys, Tensor chunkValues);
}

/// <summary>A full forward pass: queries attend to the keys of the same tokens.</summary>
internal sealed class SelfContext(Tensor positions, int batch, int length) : IKeyValueContext
{
    public (Tensor Keys, Tensor Values, Tensor Positions) Attend(int layer, Tensor chunkKeys, Tensor chunkValues) =>
        (chunkKeys.Reshape(batch, length, chunkKeys.Shape.Columns), chunkValues.Reshape(batch, length, chunkValues.Shape.Columns), positions);
}
