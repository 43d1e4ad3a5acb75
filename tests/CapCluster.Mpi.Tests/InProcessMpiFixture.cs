namespace CapCluster.Mpi.Tests;

/// <summary>
/// MPI initialised once in the test process as a singleton (rank 0 of 1). It is never finalised: MPI cannot
/// be initialised again in a process, so every in-process test shares this one.
/// </summary>
public sealed class InProcessMpiFixture
{
    public InProcessMpiFixture()
    {
        if (Infrastructure.MpiEnvironment.HasLibrary)
        {
            Mpi.Initialize();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InProcessMpiCollection : ICollectionFixture<InProcessMpiFixture>
{
    public const string Name = "MPI in this process";
}
