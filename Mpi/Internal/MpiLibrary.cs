using System.Runtime.InteropServices;

namespace CapCluster.Mpi.Internal;

/// <summary>Finds the system MPI library at run time and tells the two ABIs apart.</summary>
internal static class MpiLibrary
{
    /// <summary>Set to a path or file name to load that library before the defaults.</summary>
    public const string LibraryVariable = "CAPCLUSTER_MPI_LIBRARY";

    /// <summary>Open MPI first (the Debian default), then the MPICH ABI (upstream name, then Debian's), then whatever libmpi.so is.</summary>
    public static readonly IReadOnlyList<string> DefaultNames = ["libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so"];

    public static IReadOnlyList<string> NamesToTry()
    {
        string? chosen = Environment.GetEnvironmentVariable(LibraryVariable);
        return string.IsNullOrWhiteSpace(chosen) ? DefaultNames : [chosen, .. DefaultNames];
    }

    /// <summary>Loads the first library of <paramref name="names"/> that loads and binds its functions.</summary>
    public static MpiNative Load(IReadOnlyList<string> names)
    {
        var reasons = new List<string>();
        foreach (string name in names)
        {
            if (!NativeLibrary.TryLoad(name, out nint handle))
            {
                reasons.Add($"{name}: not found");
                continue;
            }

            // Open MPI exports its predefined objects; the MPICH ABI has none (its handles are constants).
            var abi = NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _) ? MpiAbiKind.OpenMpi : MpiAbiKind.Mpich;
            return MpiNative.Create(handle, name, abi);
        }

        throw MpiErrors.NotAvailable(names, reasons);
    }
}
