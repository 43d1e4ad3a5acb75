using System.Runtime.InteropServices;
using System.Text;

namespace CapCluster.Mpi.Internal;

/// <summary>
/// The MPI C functions, called through pointers from <see cref="NativeLibrary.GetExport"/>. Handles are
/// <see cref="nint"/> here; the two ABIs differ in what a handle is: Open MPI passes the address of an
/// exported global (pointer-sized), the MPICH ABI (MPICH, Intel MPI, MVAPICH: libmpi.so.12) a 32-bit
/// integer constant. Each call casts the pointer to the signature of the loaded ABI, so a handle always
/// travels as the C type the library expects.
/// </summary>
internal sealed unsafe partial class MpiNative
{
    private readonly nint library;
    private readonly bool intHandles;
    private readonly nint[] datatypes;
    private readonly nint[] ops;

    private readonly void* initThread;
    private readonly void* initialized;
    private readonly void* finalized;
    private readonly void* finalize;
    private readonly void* errorString;
    private readonly void* libraryVersion;
    private readonly void* commSetErrhandler;
    private readonly void* commRank;
    private readonly void* commSize;
    private readonly void* barrier;
    private readonly void* send;
    private readonly void* recv;
    private readonly void* getCount;
    private readonly void* bcast;
    private readonly void* reduce;
    private readonly void* allreduce;
    private readonly void* gather;
    private readonly void* allgather;
    private readonly void* scatter;

    private MpiNative(nint library, string libraryName, MpiAbiKind abi)
    {
        this.library = library;
        LibraryName = libraryName;
        Abi = abi;
        intHandles = abi == MpiAbiKind.Mpich;
        initThread = Function("MPI_Init_thread");
        initialized = Function("MPI_Initialized");
        finalized = Function("MPI_Finalized");
        finalize = Function("MPI_Finalize");
        errorString = Function("MPI_Error_string");
        libraryVersion = Function("MPI_Get_library_version");
        commSetErrhandler = Function("MPI_Comm_set_errhandler");
        commRank = Function("MPI_Comm_rank");
        commSize = Function("MPI_Comm_size");
        barrier = Function("MPI_Barrier");
        send = Function("MPI_Send");
        recv = Function("MPI_Recv");
        getCount = Function("MPI_Get_count");
        bcast = Function("MPI_Bcast");
        reduce = Function("MPI_Reduce");
        allreduce = Function("MPI_Allreduce");
        gather = Function("MPI_Gather");
        allgather = Function("MPI_Allgather");
        scatter = Function("MPI_Scatter");
        if (abi == MpiAbiKind.OpenMpi)
        {
            CommWorld = Global("ompi_mpi_comm_world");
            ErrorsReturn = Global("ompi_mpi_errors_return");
            datatypes = OpenMpiHandles.Datatypes.Select(Global).ToArray();
            ops = OpenMpiHandles.Ops.Select(Global).ToArray();
        }
        else
        {
            CommWorld = MpichHandles.CommWorld;
            ErrorsReturn = MpichHandles.ErrorsReturn;
            datatypes = MpichHandles.Datatypes;
            ops = MpichHandles.Ops;
        }
    }

    /// <summary>The file name that loaded (for example <c>libmpi.so.40</c>).</summary>
    public string LibraryName { get; }

    public MpiAbiKind Abi { get; }

    public nint CommWorld { get; }

    public nint ErrorsReturn { get; }

    /// <summary>An MPI_Status is 24 bytes on Open MPI and 20 on MPICH; this is room for either.</summary>
    public const int StatusBytes = 64;

    public static MpiNative Create(nint library, string libraryName, MpiAbiKind abi) => new(library, libraryName, abi);

    public nint Datatype(MpiDatatype type) => datatypes[(int)type];

    public nint Op(ReduceOp op) => (uint)op < (uint)ops.Length
        ? ops[(int)op]
        : throw new ArgumentOutOfRangeException(nameof(op), op, "Not a ReduceOp.");

    private void* Function(string name) =>
        NativeLibrary.TryGetExport(library, name, out var address)
            ? (void*)address
            : throw MpiErrors.NotMpi(LibraryName, name);

    private nint Global(string name) =>
        NativeLibrary.TryGetExport(library, name, out var address)
            ? address
            : throw MpiErrors.NotMpi(LibraryName, name);

    public int InitThread(int required, out int provided)
    {
        int p;
        int rc = ((delegate* unmanaged<int*, byte***, int, int*, int>)initThread)(null, null, required, &p);
        provided = p;
        return rc;
    }

    public bool IsInitialized()
    {
        int flag;
        ((delegate* unmanaged<int*, int>)initialized)(&flag);
        return flag != 0;
    }

    public bool IsFinalized()
    {
        int flag;
        ((delegate* unmanaged<int*, int>)finalized)(&flag);
        return flag != 0;
    }

    public int Finalize() => ((delegate* unmanaged<int>)finalize)();

    public string ErrorString(int code)
    {
        // MPI_MAX_ERROR_STRING is 256 on Open MPI and 512 on MPICH.
        byte* text = stackalloc byte[1024];
        int length = 0;
        int rc = ((delegate* unmanaged<int, byte*, int*, int>)errorString)(code, text, &length);
        return rc == 0 && length > 0
            ? Encoding.UTF8.GetString(text, Math.Min(length, 1023)).TrimEnd('\0', ' ')
            : $"(no text for MPI error {code})";
    }

    public string LibraryVersion()
    {
        // MPI_MAX_LIBRARY_VERSION_STRING is 256 on Open MPI and 8192 on MPICH.
        byte[] text = new byte[8192];
        int length = 0;
        int rc;
        fixed (byte* p = text)
        {
            rc = ((delegate* unmanaged<byte*, int*, int>)libraryVersion)(p, &length);
        }

        return rc == 0 ? Encoding.UTF8.GetString(text, 0, Math.Clamp(length, 0, text.Length)).TrimEnd('\0', ' ', '\n') : "";
    }
}
