using System.Runtime.InteropServices;

namespace CapCluster.Mpi.Internal;

/// <summary>
/// Keeps .NET's handlers for the fault signals. .NET turns SIGSEGV into NullReferenceException and SIGFPE
/// into DivideByZeroException; MPI libraries and their transports install crash reporters for the same
/// signals (UCX does it when libmpich.so.12 loads, and a null dereference then kills the process). The
/// handlers are saved before the library loads and put back after MPI_Init_thread.
/// </summary>
internal static unsafe class FaultSignals
{
    // Linux numbers (x86-64 and arm64): SIGILL, SIGBUS, SIGFPE, SIGSEGV.
    private static readonly int[] Signals = [4, 7, 8, 11];

    // glibc's struct sigaction is 152 bytes on x86-64 and arm64; room to spare.
    private const int SigactionBytes = 512;

    /// <summary>The current handlers, or <c>null</c> where they cannot be read (no glibc).</summary>
    public static byte[][]? Save()
    {
        try
        {
            var saved = new byte[Signals.Length][];
            for (int i = 0; i < Signals.Length; i++)
            {
                saved[i] = new byte[SigactionBytes];
                fixed (byte* old = saved[i])
                {
                    if (Sigaction(Signals[i], null, old) != 0)
                    {
                        return null;
                    }
                }
            }

            return saved;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    public static void Restore(byte[][]? saved)
    {
        if (saved is null)
        {
            return;
        }

        for (int i = 0; i < Signals.Length; i++)
        {
            fixed (byte* action = saved[i])
            {
                _ = Sigaction(Signals[i], action, null);
            }
        }
    }

    [DllImport("libc.so.6", EntryPoint = "sigaction")]
    private static extern int Sigaction(int signal, byte* action, byte* old);
}
