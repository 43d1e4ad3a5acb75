namespace CapCluster.Mpi;

// Blocking point-to-point messages: MPI_Send and MPI_Recv.
public sealed unsafe partial class Communicator
{
    /// <summary>Sends <paramref name="data"/> to rank <paramref name="dest"/> (MPI_Send; blocks until the buffer is reusable).</summary>
    /// <param name="data">The elements to send.</param>
    /// <param name="dest">The receiving rank.</param>
    /// <param name="tag">A non-negative tag the receiver matches on.</param>
    public void Send<T>(T[] data, int dest, int tag)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var type = native.Datatype(Internal.MpiDatatypes.Of<T>());
        runtime.Run(() =>
        {
            fixed (T* p = data)
            {
                runtime.Check("MPI_Send", native.Send(p, data.Length, type, dest, tag, handle));
            }
        });
    }

    /// <summary>Sends one value to rank <paramref name="dest"/> (MPI_Send).</summary>
    /// <param name="value">The value to send.</param>
    /// <param name="dest">The receiving rank.</param>
    /// <param name="tag">A non-negative tag the receiver matches on.</param>
    public void Send<T>(T value, int dest, int tag)
        where T : unmanaged
    {
        var type = native.Datatype(Internal.MpiDatatypes.Of<T>());
        runtime.Run(() =>
        {
            T copy = value;
            runtime.Check("MPI_Send", native.Send(&copy, 1, type, dest, tag, handle));
        });
    }

    /// <summary>
    /// Receives a message from rank <paramref name="source"/> with tag <paramref name="tag"/> into
    /// <paramref name="buffer"/> (MPI_Recv). A longer message than the buffer fails with MPI_ERR_TRUNCATE.
    /// </summary>
    /// <returns>The number of elements received, at most <c>buffer.Length</c>.</returns>
    public int Recv<T>(T[] buffer, int source, int tag)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var type = native.Datatype(Internal.MpiDatatypes.Of<T>());
        return runtime.Run(() =>
        {
            byte* status = stackalloc byte[Internal.MpiNative.StatusBytes];
            int received;
            fixed (T* p = buffer)
            {
                runtime.Check("MPI_Recv", native.Recv(p, buffer.Length, type, source, tag, handle, status));
            }

            runtime.Check("MPI_Get_count", native.GetCount(status, type, &received));
            return received;
        });
    }

    /// <summary>Receives up to <paramref name="count"/> elements from rank <paramref name="source"/> (MPI_Recv).</summary>
    /// <returns>The elements received: an array as long as the message (at most <paramref name="count"/>).</returns>
    public T[] Recv<T>(int count, int source, int tag)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var buffer = new T[count];
        int received = Recv(buffer, source, tag);
        return received == count ? buffer : buffer[..received];
    }

    /// <summary>Receives one value from rank <paramref name="source"/> (MPI_Recv).</summary>
    /// <returns>The value sent.</returns>
    public T Recv<T>(int source, int tag)
        where T : unmanaged
    {
        var type = native.Datatype(Internal.MpiDatatypes.Of<T>());
        return runtime.Run(() =>
        {
            byte* status = stackalloc byte[Internal.MpiNative.StatusBytes];
            T value;
            runtime.Check("MPI_Recv", native.Recv(&value, 1, type, source, tag, handle, status));
            return value;
        });
    }
}
