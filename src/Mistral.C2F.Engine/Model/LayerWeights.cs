using Mistral.C2F.Engine.Tensors;
using static Mistral.C2F.Engine.Model.MistralParameterNames;

namespace Mistral.C2F.Engine.Model;

/// <summary>The parameters of one decoder layer, looked up once by their Hugging Face names.</summary>
internal sealed record LayerWeights(
    Tensor InputNorm, Tensor Query, Tensor Key, Tensor Value, Tensor Output,
    Tensor PostAttentionNorm, Tensor Gate, Tensor Up, Tensor Down)
{
    public static LayerWeights From(IReadOnlyDictionary<string, Tensor> parameters, int layer)
    {
        Tensor Get(string suffix) => parameters[Layer(layer, suffix)];
        return new(Get(MistralParameterNames.InputNorm), Get(QueryProjection), Get(KeyProjection), Get(ValueProjection),
            Get(OutputProjection), Get(MistralParameterNames.PostAttentionNorm), Get(GateProjection), Get(UpProjection), Get(DownProjection));
    }
}
