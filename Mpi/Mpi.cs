using CapCluster.Mpi.Internal;

namespace CapCluster.Mpi;

/// <summary>
/// The process's MPI: load the system library (Open MPI's libmpi.so.40 or an MPICH-ABI libmpi.so.12),
/// initialise it once, use <see cref="World"/>, finalise it once. Every member is safe to call from any thread.
/// </summary>
/// <remarks>
/// The library is found at run time, without a NuGet package: set <c>CAPCLUSTER_MPI_LIBRARY</c> to a path
/// to choose one. Errors never abort the process: MPI_COMM_WORLD is switched to MPI_ERRORS_RETURN and every
/// failed call raises an <see cref="MpiException"/> with the library's own error text. The process keeps
/// .NET's handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL (MPI libraries replace them with crash reporters,
/// which would turn a NullReferenceException into a crash).
/// </remarks>
public static class Mpi
{
    private static readonly object Gate = new();
    private static MpiRuntime? current;
    private static Communicator? world;

    /// <summary>
    /// Initialises MPI (MPI_Init_thread) on a dedicated thread. Calling it again while MPI is initialised
    /// does nothing; calling it after <see cref="Finalize"/> throws, since MPI cannot be initialised twice.
    /// </summary>
    /// <param name="requireThreadMultiple">
    /// <c>true</c> (the default) asks for MPI_THREAD_MULTIPLE; <c>false</c> asks only for MPI_THREAD_SERIALIZED,
    /// which some MPI builds run faster. Whatever level the library grants (see <see cref="ThreadLevel"/>),
    /// calls stay safe from any thread: under MULTIPLE they go straight to MPI; under SERIALIZED they are
    /// serialised with one lock; under FUNNELED or SINGLE each call is run on the dedicated MPI thread (so a
    /// blocking receive then holds up every other MPI call of the process until it completes).
    /// </param>
    /// <exception cref="MpiNotAvailableException">No MPI library is installed.</exception>
    /// <exception cref="MpiException">MPI_Init_thread failed, or MPI was finalised before.</exception>
    public static void Initialize(bool requireThreadMultiple = true) =>
        Initialize(requireThreadMultiple ? ThreadLevel.Multiple : ThreadLevel.Serialized, MpiLibrary.NamesToTry());

    /// <summary>Whether MPI is initialised and not yet finalised in this process.</summary>
    public static bool IsInitialized => current is { IsFinalized: false };

    /// <summary>Whether <see cref="Finalize"/> has run in this process (after which MPI cannot be used again).</summary>
    public static bool IsFinalized => current is { IsFinalized: true };

    /// <summary>The thread support MPI_Init_thread granted.</summary>
    /// <exception cref="MpiException">MPI is not initialised.</exception>
    public static ThreadLevel ThreadLevel => Runtime.Granted;

    /// <summary>The shared library that was loaded, for example <c>libmpi.so.40</c>.</summary>
    /// <exception cref="MpiException">MPI is not initialised.</exception>
    public static string LibraryName => Runtime.Native.LibraryName;

    /// <summary>The library's own description (MPI_Get_library_version), for example "Open MPI v4.1.4, ...".</summary>
    /// <exception cref="MpiException">MPI is not initialised.</exception>
    public static string LibraryVersion => Runtime.Run(() => Runtime.Native.LibraryVersion());

    /// <summary>MPI_COMM_WORLD: every process started together (by <c>mpirun</c>, or this process alone).</summary>
    /// <exception cref="MpiException">MPI is not initialised, or has been finalised.</exception>
    public static Communicator World
    {
        get
        {
            var runtime = Runtime;
            return runtime.IsFinalized ? throw MpiErrors.Finalized() : world!;
        }
    }

    /// <summary>
    /// Finalises MPI (MPI_Finalize) on the thread that initialised it. Every process of the world must call it.
    /// Does nothing if MPI is not initialised or already finalised.
    /// </summary>
#pragma warning disable CS0465 // A static method, not a destructor: the name is MPI's.
    public static void Finalize()
#pragma warning restore CS0465
    {
        lock (Gate)
        {
            var runtime = current;
            if (runtime is null || runtime.IsFinalized)
            {
                return;
            }

            runtime.Dispatcher.OnOwnThread(() => runtime.Check("MPI_Finalize", runtime.Native.Finalize()));
            runtime.MarkFinalized();
            runtime.Dispatcher.Dispose();
        }
    }

    /// <summary>Initialises with a chosen thread level from the first of <paramref name="libraries"/> that loads.</summary>
    internal static void Initialize(ThreadLevel requested, IReadOnlyList<string> libraries)
    {
        lock (Gate)
        {
            if (current is not null)
            {
                if (current.IsFinalized)
                {
                    throw MpiErrors.Finalized();
                }

                return;
            }

            var signals = FaultSignals.Save();
            var native = MpiLibrary.Load(libraries);
            var dispatcher = new MpiDispatcher();
            try
            {
                var granted = ThreadLevel.Single;
                dispatcher.OnOwnThread(() =>
                {
                    int rc = native.InitThread((int)requested, out int provided);
                    FaultSignals.Restore(signals);
                    if (rc != 0)
                    {
                        throw MpiErrors.Call("MPI_Init_thread", rc, native.ErrorString(rc));
                    }

                    granted = (ThreadLevel)Math.Clamp(provided, 0, 3);
                    rc = native.CommSetErrhandler(native.CommWorld, native.ErrorsReturn);
                    if (rc != 0)
                    {
                        throw MpiErrors.Call("MPI_Comm_set_errhandler", rc, native.ErrorString(rc));
                    }
                });
                dispatcher.Adopt(granted);
                var runtime = new MpiRuntime(native, dispatcher, granted);
                world = new Communicator(runtime, native.CommWorld);
                current = runtime;
            }
            catch
            {
                dispatcher.Dispose();
                throw;
            }
        }
    }

    private static MpiRuntime Runtime => current ?? throw MpiErrors.NotInitialized();
}
