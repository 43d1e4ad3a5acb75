namespace CapCluster.Mpi;

/// <summary>
/// No MPI library could be loaded. The message lists the library names tried and the Debian package to
/// install (<c>apt-get install openmpi-bin</c>).
/// </summary>
public sealed class MpiNotAvailableException : MpiException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was looked for and how to install it.</param>
    /// <param name="librariesTried">The shared-library names that failed to load, in the order tried.</param>
    public MpiNotAvailableException(string message, IReadOnlyList<string> librariesTried)
        : base(message)
    {
        LibrariesTried = librariesTried;
    }

    /// <summary>The shared-library names that failed to load, in the order tried.</summary>
    public IReadOnlyList<string> LibrariesTried { get; }
}
