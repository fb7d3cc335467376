using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.IO;

/// <summary>
/// Checks of a file before it is opened as part of a model: it must be a regular file (a FIFO would block its reader
/// forever, a device would never end), and a symbolic link must not lead out of the model directory — except into the
/// blob store of a Hugging Face cache snapshot (<c>…/snapshots/REV/file → ../../blobs/HASH</c>), the layout every model
/// downloaded by the Hub client has.
/// </summary>
public static partial class ModelFiles
{
    /// <summary>Fails unless <paramref name="path"/> (after links) is a regular file; a missing file is left to the caller's own message.</summary>
    public static void RequireRegularFile(string path)
    {
        if (FileType(path) is { } type && type != RegularFile)
            throw new IOException($"{path}: not a regular file ({Describe(type)}); model files must be regular files");
    }

    /// <summary>Fails when <paramref name="path"/> is a symbolic link whose final target lies outside <paramref name="modelDirectory"/>; then requires a regular file.</summary>
    public static void RequireWithin(string path, string modelDirectory)
    {
        var target = File.Exists(path) ? File.ResolveLinkTarget(path, returnFinalTarget: true) : null;
        if (target is not null)
        {
            var resolved = Path.GetFullPath(target.FullName);
            if (!AllowedRoots(Path.GetFullPath(modelDirectory)).Any(root => resolved.StartsWith(root, StringComparison.Ordinal)))
                throw new IOException($"{path}: a symbolic link to {resolved}, outside the model directory; refusing to follow it");
        }
        RequireRegularFile(path);
    }

    private static IEnumerable<string> AllowedRoots(string modelDirectory)
    {
        yield return Path.TrimEndingDirectorySeparator(modelDirectory) + Path.DirectorySeparatorChar;
        var snapshots = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(modelDirectory));
        if (snapshots is not null && Path.GetFileName(snapshots) == "snapshots" && Path.GetDirectoryName(snapshots) is { } repository)
            yield return Path.Combine(repository, "blobs") + Path.DirectorySeparatorChar;
    }

    private const int TypeMask = 0xF000, RegularFile = 0x8000;

    private static string Describe(int type) => type switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xC000 => "a socket",
        _ => $"file type 0x{type:x}",
    };

    /// <summary>The S_IFMT bits of the file, following links; null where the platform cannot say (not Linux) or the file is missing.</summary>
    private static unsafe int? FileType(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        // struct statx is the same on every Linux architecture: stx_mode is the 16 bits at offset 28 of 256 bytes.
        byte* buffer = stackalloc byte[256];
        const int currentDirectory = -100, typeOnly = 1;
        try
        {
            if (Statx(currentDirectory, path, 0, typeOnly, buffer) != 0) return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null; // a C library without statx (glibc < 2.28)
        }
        return *(ushort*)(buffer + 28) & TypeMask;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directoryDescriptor, string path, int flags, uint mask, byte* buffer);
}
