namespace Mistral.C2F.Engine.Diagnostics;

/// <summary>
/// Where the libraries say what they accepted but ignored (a config key, a dropped training example): problems that are not
/// errors, yet that a user must hear of. The console prints them on stderr; a caller can capture them for the current
/// asynchronous flow (so parallel tests do not see each other's).
/// </summary>
public static class Warnings
{
    private static readonly AsyncLocal<Action<string>?> s_sink = new();

    public static void Report(string message) => (s_sink.Value ?? WriteToStandardError)(message);

    /// <summary>Sends the warnings of this flow to <paramref name="sink"/> until the returned scope is disposed.</summary>
    public static IDisposable Redirect(Action<string> sink)
    {
        var previous = s_sink.Value;
        s_sink.Value = sink;
        return new Scope(() => s_sink.Value = previous);
    }

    private static void WriteToStandardError(string message) => Console.Error.WriteLine($"warning: {message}");

    private sealed class Scope(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
