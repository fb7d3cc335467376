using Mistral.C2F.Engine.Distributed.Mpi;

namespace Mistral.C2F.Engine.Distributed;

/// <summary>How this process was started: alone, or as one rank of an <c>mpirun</c> job (Open MPI names the job's size in the environment).</summary>
public static class JobLaunch
{
    private const string WorldSizeVariable = "OMPI_COMM_WORLD_SIZE", WorldRankVariable = "OMPI_COMM_WORLD_RANK",
        LocalRankVariable = "OMPI_COMM_WORLD_LOCAL_RANK";

    /// <summary>The ranks of the job this process belongs to: 1 when not started by mpirun.</summary>
    public static int Ranks => int.TryParse(Environment.GetEnvironmentVariable(WorldSizeVariable), out int size) && size > 0 ? size : 1;

    /// <summary>This process's rank, known before MPI starts: 0 when not started by mpirun.</summary>
    public static int Rank => int.TryParse(Environment.GetEnvironmentVariable(WorldRankVariable), out int rank) && rank > 0 ? rank : 0;

    /// <summary>This process's rank among the job's ranks on this machine: the GPU it takes, one per rank (0 when not started by mpirun).</summary>
    public static int LocalRank => int.TryParse(Environment.GetEnvironmentVariable(LocalRankVariable), out int rank) && rank > 0 ? rank : 0;

    /// <summary>Joins the job: MPI for a job of several ranks, else the single process (no MPI library needed).</summary>
    public static ICommunicator Join() => Ranks > 1 ? MpiCommunicator.Initialize() : SingleProcess.Instance;
}
