namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>The "shape" object of a plan entry, in torch_peers.py's key names and dtype names.</summary>
internal static class PeerShape
{
    public static string DType(bool bf16) => bf16 ? "bfloat16" : "float32";

    public static string Suffix(bool bf16) => bf16 ? "bf16" : "f32";

    public static Dictionary<string, object> Of(params (string Key, object Value)[] entries) =>
        entries.ToDictionary(e => e.Key, e => e.Value);
}
