namespace Mistral.C2F.Engine.Cuda;

/// <summary>Where <see cref="CudaBackend"/> computes in bf16; storage, master weights and gradients are float32 either way.</summary>
public enum CudaPrecision
{
    /// <summary>Every op in float32 on CUDA cores: the op contract's 1e-5 accuracy.</summary>
    Float32,

    /// <summary>
    /// Mixed precision: matrix products (with every side at least 32), and attention over training sequences (one
    /// position tensor for queries and keys, consecutive positions, right padding allowed, head dims 64 and 128),
    /// take bf16 operands on tensor cores with float32 accumulation and float32 results; every other op stays
    /// float32. Products carry bf16's relative rounding of about 4e-3.
    /// </summary>
    Bf16TensorCores,
}
