namespace CapCluster.Mpi.Internal;

// The calls that take handles: each is cast to the Open MPI signature (nint handles) or the MPICH one
// (int handles), so that a handle is passed exactly as the C declaration says, on the stack as in registers.
internal sealed unsafe partial class MpiNative
{
    public int CommSetErrhandler(nint comm, nint handler) => intHandles
        ? ((delegate* unmanaged<int, int, int>)commSetErrhandler)((int)comm, (int)handler)
        : ((delegate* unmanaged<nint, nint, int>)commSetErrhandler)(comm, handler);

    public int CommRank(nint comm, int* rank) => intHandles
        ? ((delegate* unmanaged<int, int*, int>)commRank)((int)comm, rank)
        : ((delegate* unmanaged<nint, int*, int>)commRank)(comm, rank);

    public int CommSize(nint comm, int* size) => intHandles
        ? ((delegate* unmanaged<int, int*, int>)commSize)((int)comm, size)
        : ((delegate* unmanaged<nint, int*, int>)commSize)(comm, size);

    public int Barrier(nint comm) => intHandles
        ? ((delegate* unmanaged<int, int>)barrier)((int)comm)
        : ((delegate* unmanaged<nint, int>)barrier)(comm);

    public int Send(void* buffer, int count, nint type, int dest, int tag, nint comm) => intHandles
        ? ((delegate* unmanaged<void*, int, int, int, int, int, int>)send)(buffer, count, (int)type, dest, tag, (int)comm)
        : ((delegate* unmanaged<void*, int, nint, int, int, nint, int>)send)(buffer, count, type, dest, tag, comm);

    public int Recv(void* buffer, int count, nint type, int source, int tag, nint comm, void* status) => intHandles
        ? ((delegate* unmanaged<void*, int, int, int, int, int, void*, int>)recv)(buffer, count, (int)type, source, tag, (int)comm, status)
        : ((delegate* unmanaged<void*, int, nint, int, int, nint, void*, int>)recv)(buffer, count, type, source, tag, comm, status);

    public int GetCount(void* status, nint type, int* count) => intHandles
        ? ((delegate* unmanaged<void*, int, int*, int>)getCount)(status, (int)type, count)
        : ((delegate* unmanaged<void*, nint, int*, int>)getCount)(status, type, count);

    public int Bcast(void* buffer, int count, nint type, int root, nint comm) => intHandles
        ? ((delegate* unmanaged<void*, int, int, int, int, int>)bcast)(buffer, count, (int)type, root, (int)comm)
        : ((delegate* unmanaged<void*, int, nint, int, nint, int>)bcast)(buffer, count, type, root, comm);

    public int Reduce(void* send, void* receive, int count, nint type, nint op, int root, nint comm) => intHandles
        ? ((delegate* unmanaged<void*, void*, int, int, int, int, int, int>)reduce)(send, receive, count, (int)type, (int)op, root, (int)comm)
        : ((delegate* unmanaged<void*, void*, int, nint, nint, int, nint, int>)reduce)(send, receive, count, type, op, root, comm);

    public int Allreduce(void* send, void* receive, int count, nint type, nint op, nint comm) => intHandles
        ? ((delegate* unmanaged<void*, void*, int, int, int, int, int>)allreduce)(send, receive, count, (int)type, (int)op, (int)comm)
        : ((delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)allreduce)(send, receive, count, type, op, comm);

    public int Gather(void* send, int sendCount, void* receive, int receiveCount, nint type, int root, nint comm) => intHandles
        ? ((delegate* unmanaged<void*, int, int, void*, int, int, int, int, int>)gather)(send, sendCount, (int)type, receive, receiveCount, (int)type, root, (int)comm)
        : ((delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int>)gather)(send, sendCount, type, receive, receiveCount, type, root, comm);

    public int Allgather(void* send, int sendCount, void* receive, int receiveCount, nint type, nint comm) => intHandles
        ? ((delegate* unmanaged<void*, int, int, void*, int, int, int, int>)allgather)(send, sendCount, (int)type, receive, receiveCount, (int)type, (int)comm)
        : ((delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)allgather)(send, sendCount, type, receive, receiveCount, type, comm);

    public int Scatter(void* send, int sendCount, void* receive, int receiveCount, nint type, int root, nint comm) => intHandles
        ? ((delegate* unmanaged<void*, int, int, void*, int, int, int, int, int>)scatter)(send, sendCount, (int)type, receive, receiveCount, (int)type, root, (int)comm)
        : ((delegate* unmanaged<void*, int, nint, void*, int, nint, int, nint, int>)scatter)(send, sendCount, type, receive, receiveCount, type, root, comm);
}
