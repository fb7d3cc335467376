using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mistral.C2F.Rlhf.Training;

/// <summary>
/// The JSON of run descriptions, trainer and PPO states and PPO configs: snake_case names, as TRL writes its settings. A
/// name that matches no setting is an error, so a misspelt or misplaced setting is never silently left at its default.
/// </summary>
public static class RunJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };
}
