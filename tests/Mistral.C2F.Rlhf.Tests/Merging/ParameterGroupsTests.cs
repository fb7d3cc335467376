using Mistral.C2F.Engine.Model;
using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

[Trait("Backend", "cpu")]
public sealed class ParameterGroupsTests
{
    [Theory]
    [InlineData("model.embed_tokens.weight", ParameterGroup.Embeddings)]
    [InlineData("lm_head.weight", ParameterGroup.Embeddings)]
    [InlineData("model.layers.0.self_attn.q_proj.weight", ParameterGroup.Attention)]
    [InlineData("model.layers.3.self_attn.k_proj.weight", ParameterGroup.Attention)]
    [InlineData("model.layers.3.self_attn.v_proj.weight", ParameterGroup.Attention)]
    [InlineData("model.layers.31.self_attn.o_proj.weight", ParameterGroup.Attention)]
    [InlineData("model.layers.0.mlp.gate_proj.weight", ParameterGroup.Mlp)]
    [InlineData("model.layers.0.mlp.up_proj.weight", ParameterGroup.Mlp)]
    [InlineData("model.layers.0.mlp.down_proj.weight", ParameterGroup.Mlp)]
    [InlineData("model.layers.0.input_layernorm.weight", ParameterGroup.Norms)]
    [InlineData("model.layers.0.post_attention_layernorm.weight", ParameterGroup.Norms)]
    [InlineData("model.norm.weight", ParameterGroup.Norms)]
    [InlineData("model.layers.0.self_attn.q_norm.weight", ParameterGroup.Norms)]
    [InlineData("model.layers.0.self_attn.rotary_emb.inv_freq", ParameterGroup.Other)]
    public void Hugging_Face_names_fall_into_their_group(string name, ParameterGroup group) => Assert.Equal(group, ParameterGroups.Of(name));

    [Fact]
    public void Every_Mistral_parameter_has_a_group()
    {
        var config = MergeModels.Config;
        Assert.DoesNotContain(MistralParameterNames.For(config), parameter => ParameterGroups.Of(parameter.Name) == ParameterGroup.Other);
    }

    [Fact]
    public void A_group_without_its_own_lambda_takes_the_default()
    {
        var lambda = new GroupLambdas(Default: 0.5f, Attention: 2f, Norms: 0f);
        Assert.Equal(0.5f, lambda.For("model.embed_tokens.weight"));
        Assert.Equal(2f, lambda.For("model.layers.1.self_attn.o_proj.weight"));
        Assert.Equal(0.5f, lambda.For("model.layers.1.mlp.up_proj.weight"));
        Assert.Equal(0f, lambda.For("model.norm.weight"));
        Assert.Equal(0.5f, lambda.For("something.else"));
    }
}
