using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace CapCluster.Mpi.Internal;

/// <summary>
/// Runs MPI calls as the granted thread level allows. MPI is always initialised on a dedicated thread
/// that lives until MPI_Finalize, because under FUNNELED only the initialising thread may call MPI and
/// MPI_Finalize must come from it. Then: MULTIPLE calls straight from the caller's thread; SERIALIZED
/// calls from the caller's thread under one lock; FUNNELED or SINGLE hands every call to the dedicated
/// thread and waits for it.
/// </summary>
internal sealed class MpiDispatcher : IDisposable
{
    private readonly BlockingCollection<WorkItem> queue = new();
    private readonly Thread thread;
    private readonly object gate = new();
    private DispatchMode mode = DispatchMode.OwnThread;

    public MpiDispatcher()
    {
        thread = new Thread(Loop) { IsBackground = true, Name = "MPI" };
        thread.Start();
    }

    public DispatchMode Mode => mode;

    /// <summary>Chooses how later calls run, once MPI_Init_thread has said what it grants.</summary>
    public void Adopt(ThreadLevel granted) => mode = granted switch
    {
        ThreadLevel.Multiple => DispatchMode.Direct,
        ThreadLevel.Serialized => DispatchMode.Locked,
        _ => DispatchMode.OwnThread,
    };

    public void Run(Action call)
    {
        switch (mode)
        {
            case DispatchMode.Direct:
                call();
                break;
            case DispatchMode.Locked:
                lock (gate)
                {
                    call();
                }

                break;
            default:
                OnOwnThread(call);
                break;
        }
    }

    public T Run<T>(Func<T> call)
    {
        T result = default!;
        Run(() => { result = call(); });
        return result;
    }

    /// <summary>Runs on the dedicated thread whatever the mode (initialisation and finalisation).</summary>
    public void OnOwnThread(Action call)
    {
        if (Thread.CurrentThread == thread)
        {
            call();
            return;
        }

        using var item = new WorkItem(call);
        queue.Add(item);
        item.Done.Wait();
        item.Error?.Throw();
    }

    public void Dispose()
    {
        queue.CompleteAdding();
        if (Thread.CurrentThread != thread)
        {
            thread.Join(TimeSpan.FromSeconds(10));
        }
    }

    private void Loop()
    {
        foreach (var item in queue.GetConsumingEnumerable())
        {
            try
            {
                item.Call();
            }
            catch (Exception e)
            {
                item.Error = ExceptionDispatchInfo.Capture(e);
            }

            item.Done.Set();
        }
    }

    internal enum DispatchMode
    {
        Direct,
        Locked,
        OwnThread,
    }

    private sealed class WorkItem(Action call) : IDisposable
    {
        public Action Call { get; } = call;

        public ManualResetEventSlim Done { get; } = new();

        public ExceptionDispatchInfo? Error { get; set; }

        public void Dispose() => Done.Dispose();
    }
}
