using System.IO.MemoryMappedFiles;

namespace Mistral.C2F.Engine.Distributed.Mpi;

/// <summary>
/// How many collectives each rank of a job on one machine has entered, one counter per rank in a shared memory-mapped
/// file, so that a rank left waiting can name the ranks that never arrived: a stopped rank's counter stays behind.
/// Written without MPI (the watchdog's thread may not call MPI while the main thread waits inside it); ranks on other
/// machines cannot share the file, so a job across machines has none.
/// </summary>
internal sealed class CollectiveProgress : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _counters;
    private readonly int _rank, _size;

    private CollectiveProgress(string path, int rank, int size, bool create)
    {
        (_rank, _size) = (rank, size);
        var stream = create
            ? new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete)
            : new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        if (create) stream.SetLength(size * sizeof(long));
        _file = MemoryMappedFile.CreateFromFile(stream, null, size * sizeof(long), MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        _counters = _file.CreateViewAccessor(0, size * sizeof(long));
    }

    /// <summary>
    /// The job's counters in <paramref name="directory"/>, named by <paramref name="jobId"/>: rank 0 creates the file,
    /// the others map it, and rank 0 removes its name once all have (the mappings stay shared), so a job that ends in any
    /// way leaves nothing behind. Every rank calls it at the same point; <paramref name="barrier"/> separates the steps.
    /// </summary>
    public static CollectiveProgress Open(string directory, long jobId, int rank, int size, Action barrier)
    {
        var path = Path.Combine(directory, $"c2f-collectives-{jobId:x16}");
        var progress = rank == 0 ? new CollectiveProgress(path, rank, size, create: true) : null;
        barrier();
        progress ??= new CollectiveProgress(path, rank, size, create: false);
        barrier();
        if (rank == 0) File.Delete(path);
        return progress;
    }

    /// <summary>This rank enters its collective number <paramref name="sequence"/>.</summary>
    public void Enter(long sequence) => _counters.Write(_rank * sizeof(long), sequence);

    /// <summary>The ranks that have not yet entered collective <paramref name="sequence"/>, with the last one each entered.</summary>
    public IReadOnlyList<(int Rank, long Entered)> Behind(long sequence) =>
        Enumerable.Range(0, _size).Select(r => (Rank: r, Entered: _counters.ReadInt64(r * sizeof(long)))).Where(r => r.Entered < sequence).ToList();

    public void Dispose()
    {
        _counters.Dispose();
        _file.Dispose();
    }
}
