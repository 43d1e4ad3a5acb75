using System.Runtime.InteropServices;

namespace CapCluster.Launcher.Internal;

/// <summary>
/// Replaces the launcher with another program (execv): <c>capcluster console</c> becomes <c>capconsole</c>, with the
/// launcher's pid, terminal, standard streams and environment, so Ctrl-C and the exit code are the console's own.
/// </summary>
internal static partial class ProgramImage
{
    /// <summary>Runs <paramref name="executable"/> with <paramref name="arguments"/> in place of this process: it never returns.</summary>
    /// <exception cref="CapClusterException">The program could not be run (this process goes on); the message says why (errno).</exception>
    public static void Replace(string executable, IReadOnlyList<string> arguments)
    {
        var argv = new IntPtr[arguments.Count + 2];
        try
        {
            argv[0] = Marshal.StringToCoTaskMemUTF8(executable);
            for (var i = 0; i < arguments.Count; i++)
            {
                argv[i + 1] = Marshal.StringToCoTaskMemUTF8(arguments[i]);
            }

            Execv(executable, argv);
            var error = Marshal.GetLastPInvokeError();
            throw new CapClusterException($"cannot run {executable}: {Marshal.GetPInvokeErrorMessage(error)}");
        }
        finally
        {
            foreach (var pointer in argv)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "execv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Execv(string path, IntPtr[] argv);
}
