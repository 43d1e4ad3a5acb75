namespace CapCluster.Mpi.Internal;

/// <summary>One initialised MPI: the bound library, how calls are dispatched, and whether it is finalised.</summary>
internal sealed class MpiRuntime(MpiNative native, MpiDispatcher dispatcher, ThreadLevel granted)
{
    private volatile bool finalized;

    public MpiNative Native { get; } = native;

    public MpiDispatcher Dispatcher { get; } = dispatcher;

    public ThreadLevel Granted { get; } = granted;

    public bool IsFinalized => finalized;

    public void MarkFinalized() => finalized = true;

    /// <summary>Runs <paramref name="call"/> as the thread level allows, after checking MPI is still usable.</summary>
    public void Run(Action call)
    {
        if (finalized)
        {
            throw MpiErrors.Finalized();
        }

        Dispatcher.Run(call);
    }

    public T Run<T>(Func<T> call)
    {
        if (finalized)
        {
            throw MpiErrors.Finalized();
        }

        return Dispatcher.Run(call);
    }

    /// <summary>Throws an <see cref="MpiException"/> naming <paramref name="function"/> unless <paramref name="code"/> is MPI_SUCCESS.</summary>
    public void Check(string function, int code)
    {
        if (code != 0)
        {
            throw MpiErrors.Call(function, code, Native.ErrorString(code));
        }
    }
}
