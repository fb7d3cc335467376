using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// Where a layer's attention finds its keys when they are not just the chunk's own (a full forward
/// pass): a KV cache that adds the keys of earlier chunks. Keys arrive rotary-embedded.
/// </summary>
public interface IKeyValueContext
{
    /// <summary>Keys and values [B, Sk, Hkv·D] and their positions [B, Sk] for the current chunk's queries.</summary>
    (Tensor Keys, Tensor Values, Tensor Positions) Attend(int layer, Tensor chunkKeys, Tensor chunkValues);
}
