using System.Diagnostics;
using System.Runtime.InteropServices;

namespace CapCluster.Mpi.Tests.Infrastructure;

/// <summary>What this machine offers: an MPI library to load, and an mpirun (Open MPI's or another).</summary>
internal static class MpiEnvironment
{
    private static readonly Lazy<bool> LibraryLoads = new(() =>
        new[] { "libmpi.so.40", "libmpi.so.12", "libmpi.so" }.Any(name =>
        {
            if (!NativeLibrary.TryLoad(name, out var handle))
            {
                return false;
            }

            NativeLibrary.Free(handle);
            return true;
        }));

    private static readonly Lazy<string?> MpirunPath = new(() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "mpirun"))
            .FirstOrDefault(File.Exists));

    private static readonly Lazy<bool> OpenMpi = new(() => Mpirun is not null && RunVersion().Contains("Open MPI", StringComparison.Ordinal));

    private static readonly Lazy<string?> Mpich = new(() =>
        new[] { "libmpi.so.12", "libmpich.so.12" }.FirstOrDefault(name =>
        {
            if (!NativeLibrary.TryLoad(name, out var handle))
            {
                return false;
            }

            NativeLibrary.Free(handle);
            return true;
        }));

    public static bool HasLibrary => LibraryLoads.Value;

    /// <summary>An MPICH-ABI library (libmpi.so.12, or Debian's libmpich.so.12), or <c>null</c>.</summary>
    public static string? MpichLibrary => Mpich.Value;

    public static string? Mpirun => MpirunPath.Value;

    public static bool IsOpenMpi => OpenMpi.Value;

    public const string InstallHint = "apt-get install openmpi-bin";

    private static string RunVersion()
    {
        using var process = Process.Start(new ProcessStartInfo(Mpirun!, "--version")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
        }

        return output;
    }
}

/// <summary>A fact that needs an MPI library in this process; skipped, with the reason, when none is installed.</summary>
public sealed class MpiLibraryFactAttribute : FactAttribute
{
    public MpiLibraryFactAttribute()
    {
        if (!MpiEnvironment.HasLibrary)
        {
            Skip = $"No MPI library (libmpi.so.40/.12) is installed: {MpiEnvironment.InstallHint}";
        }
    }
}

/// <summary>A theory that needs an MPICH-ABI library; skipped, with the reason, when none is installed.</summary>
public sealed class MpichTheoryAttribute : TheoryAttribute
{
    public MpichTheoryAttribute()
    {
        if (MpiEnvironment.MpichLibrary is null)
        {
            Skip = "No MPICH-ABI library (libmpi.so.12 or libmpich.so.12) is installed: apt-get install libmpich12";
        }
    }
}

/// <summary>A theory that needs mpirun; skipped, with the reason, when mpirun is absent.</summary>
public sealed class MpirunTheoryAttribute : TheoryAttribute
{
    public MpirunTheoryAttribute()
    {
        if (MpiEnvironment.Mpirun is null)
        {
            Skip = $"mpirun is not installed: {MpiEnvironment.InstallHint}";
        }
    }
}
