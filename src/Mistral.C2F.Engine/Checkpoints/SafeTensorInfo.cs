using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>What a safetensors header says about one tensor: its name, element type and shape.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, Shape Shape)
{
    public long ByteLength => checked(Shape.ElementCount * DType.ElementSize());
}
