using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Checkpoints;

/// <summary>Fills <paramref name="destination"/> (every element, row-major) with the values of one parameter.</summary>
public delegate void ParameterProducer(string name, Shape shape, Span<float> destination);
