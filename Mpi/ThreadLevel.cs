namespace CapCluster.Mpi;

/// <summary>The thread support levels of <c>MPI_Init_thread</c>, in increasing order.</summary>
public enum ThreadLevel
{
    /// <summary>MPI_THREAD_SINGLE: only one thread in the process.</summary>
    Single = 0,

    /// <summary>MPI_THREAD_FUNNELED: only the thread that initialised MPI may call it.</summary>
    Funneled = 1,

    /// <summary>MPI_THREAD_SERIALIZED: any thread, but never two at once.</summary>
    Serialized = 2,

    /// <summary>MPI_THREAD_MULTIPLE: any thread, concurrently.</summary>
    Multiple = 3,
}
