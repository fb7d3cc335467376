namespace Mistral.C2F.Engine.Cuda.Tests.Support;

/// <summary>Tools of the CUDA toolkit, looked for where the build looks for nvcc: PATH, then $CUDA_HOME/bin.</summary>
public static class CudaToolkit
{
    /// <summary>The tool's path, or null when the toolkit is not installed.</summary>
    public static string? Find(string tool)
    {
        var file = OperatingSystem.IsWindows() ? tool + ".exe" : tool;
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Append(Path.Combine(Environment.GetEnvironmentVariable("CUDA_HOME") ?? "", "bin"));
        return directories.Where(directory => directory.Length > 0)
            .Select(directory => Path.Combine(directory, file))
            .FirstOrDefault(File.Exists);
    }
}
