namespace Mistral.C2F.Engine.Cuda;

/// <summary>How <see cref="CudaBackend"/> multiplies matrices; every other op is float32 either way.</summary>
public enum MatMulPrecision
{
    /// <summary>Float32 operands on CUDA cores: the op contract's 1e-5 accuracy.</summary>
    Float32,

    /// <summary>
    /// Operands rounded to bf16 and multiplied on tensor cores with float32 accumulation and a float32 result
    /// (autocast, as mixed-precision training does): the projections at tensor-core speed, master weights,
    /// activations and gradients still float32. Products carry bf16's relative error of about 4e-3.
    /// </summary>
    Bf16TensorCores,
}
