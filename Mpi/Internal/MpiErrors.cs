namespace CapCluster.Mpi.Internal;

/// <summary>Every message the binding raises, built in one place.</summary>
internal static class MpiErrors
{
    public const string InstallHint = "install it with 'apt-get install openmpi-bin' (Debian/Ubuntu; brings libmpi.so.40)";

    public static MpiNotAvailableException NotAvailable(IReadOnlyList<string> tried, IReadOnlyList<string> reasons) =>
        new(
            $"No MPI library could be loaded (tried {string.Join(", ", tried)}): {InstallHint}, "
            + $"or set {MpiLibrary.LibraryVariable} to the path of libmpi. Details: {string.Join("; ", reasons)}",
            tried);

    public static MpiNotAvailableException NotMpi(string library, string missingExport) =>
        new($"'{library}' loaded but does not export {missingExport}, so it is not an MPI library: {InstallHint}.", [library]);

    public static MpiException Call(string function, int code, string text) =>
        new($"{function} failed with MPI error {code}: {text}", function, code);

    public static MpiException UnsupportedType(Type type) =>
        new($"MPI cannot move elements of type {type}: use byte, sbyte, short, ushort, int, uint, long, ulong, float or double.");

    public static MpiException NotInitialized() =>
        new("MPI is not initialised: call Mpi.Initialize() first (capengine --mpi does it for engine code).");

    public static MpiException Finalized() =>
        new("MPI has been finalised in this process and cannot be used or initialised again (an MPI rule).");

    public static MpiException ScatterNotDivisible(int? length, int size, int root) =>
        new($"Scatter from root {root}: the root's {length?.ToString() ?? "array of"} elements cannot be split into {size} equal parts.");

    public static MpiException ScatterNoData(int root) =>
        new($"Scatter: root {root} passed no data (null).");

    public static MpiException BadRoot(int root, int size) =>
        new($"Root {root} is not a rank of this communicator (size {size}).");
}
