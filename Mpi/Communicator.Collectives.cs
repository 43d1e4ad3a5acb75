using CapCluster.Mpi.Internal;

namespace CapCluster.Mpi;

// Collective operations: every process of the communicator calls them, in the same order, with the same root.
public sealed unsafe partial class Communicator
{
    /// <summary>
    /// Broadcasts <paramref name="data"/> from <paramref name="root"/> in place (MPI_Bcast): on return every
    /// process's array holds the root's elements. Every process passes an array of the same length.
    /// </summary>
    public void Bcast<T>(T[] data, int root)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckRoot(root);
        var type = native.Datatype(MpiDatatypes.Of<T>());
        runtime.Run(() =>
        {
            fixed (T* p = data)
            {
                runtime.Check("MPI_Bcast", native.Bcast(p, data.Length, type, root, handle));
            }
        });
    }

    /// <summary>Broadcasts one value from <paramref name="root"/> (MPI_Bcast).</summary>
    /// <param name="value">The value to send on the root; ignored elsewhere.</param>
    /// <param name="root">The rank whose value everyone receives.</param>
    /// <returns>The root's value, on every process.</returns>
    public T Bcast<T>(T value, int root)
        where T : unmanaged
    {
        CheckRoot(root);
        var type = native.Datatype(MpiDatatypes.Of<T>());
        return runtime.Run(() =>
        {
            T copy = value;
            runtime.Check("MPI_Bcast", native.Bcast(&copy, 1, type, root, handle));
            return copy;
        });
    }

    /// <summary>
    /// Combines the arrays of every process element by element onto <paramref name="root"/> (MPI_Reduce).
    /// Every process passes an array of the same length.
    /// </summary>
    /// <returns>The combined array on the root; <c>null</c> on every other process.</returns>
    public T[]? Reduce<T>(T[] data, ReduceOp op, int root)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckRoot(root);
        var type = native.Datatype(MpiDatatypes.Of<T>());
        var mpiOp = native.Op(op);
        T[]? result = Rank == root ? new T[data.Length] : null;
        runtime.Run(() =>
        {
            fixed (T* send = data)
            fixed (T* receive = result)
            {
                runtime.Check("MPI_Reduce", native.Reduce(send, receive, data.Length, type, mpiOp, root, handle));
            }
        });
        return result;
    }

    /// <summary>Combines one value of every process onto <paramref name="root"/> (MPI_Reduce).</summary>
    /// <returns>The combined value on the root; <c>null</c> on every other process.</returns>
    public T? Reduce<T>(T value, ReduceOp op, int root)
        where T : unmanaged
    {
        T[]? result = Reduce(new[] { value }, op, root);
        return result is null ? null : result[0];
    }

    /// <summary>Combines the arrays of every process element by element; everyone gets the result (MPI_Allreduce).</summary>
    /// <returns>A new array with the combined elements, on every process.</returns>
    public T[] Allreduce<T>(T[] data, ReduceOp op)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var type = native.Datatype(MpiDatatypes.Of<T>());
        var mpiOp = native.Op(op);
        var result = new T[data.Length];
        runtime.Run(() =>
        {
            fixed (T* send = data)
            fixed (T* receive = result)
            {
                runtime.Check("MPI_Allreduce", native.Allreduce(send, receive, data.Length, type, mpiOp, handle));
            }
        });
        return result;
    }

    /// <summary>Combines one value of every process; everyone gets the result (MPI_Allreduce).</summary>
    public T Allreduce<T>(T value, ReduceOp op)
        where T : unmanaged
    {
        var type = native.Datatype(MpiDatatypes.Of<T>());
        var mpiOp = native.Op(op);
        return runtime.Run(() =>
        {
            T send = value;
            T receive;
            runtime.Check("MPI_Allreduce", native.Allreduce(&send, &receive, 1, type, mpiOp, handle));
            return receive;
        });
    }

    /// <summary>
    /// Concatenates the arrays of every process, in rank order, onto <paramref name="root"/> (MPI_Gather).
    /// Every process passes an array of the same length.
    /// </summary>
    /// <returns>On the root an array of <see cref="Size"/> × <c>data.Length</c> elements; <c>null</c> elsewhere.</returns>
    public T[]? Gather<T>(T[] data, int root)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckRoot(root);
        var type = native.Datatype(MpiDatatypes.Of<T>());
        T[]? result = Rank == root ? new T[checked(data.Length * Size)] : null;
        runtime.Run(() =>
        {
            fixed (T* send = data)
            fixed (T* receive = result)
            {
                runtime.Check("MPI_Gather", native.Gather(send, data.Length, receive, data.Length, type, root, handle));
            }
        });
        return result;
    }

    /// <summary>Collects one value of every process, in rank order, onto <paramref name="root"/> (MPI_Gather).</summary>
    /// <returns>On the root an array of <see cref="Size"/> values; <c>null</c> elsewhere.</returns>
    public T[]? Gather<T>(T value, int root)
        where T : unmanaged => Gather(new[] { value }, root);

    /// <summary>
    /// Concatenates the arrays of every process, in rank order; everyone gets the result (MPI_Allgather).
    /// Every process passes an array of the same length.
    /// </summary>
    /// <returns>An array of <see cref="Size"/> × <c>data.Length</c> elements, on every process.</returns>
    public T[] Allgather<T>(T[] data)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var type = native.Datatype(MpiDatatypes.Of<T>());
        var result = new T[checked(data.Length * Size)];
        runtime.Run(() =>
        {
            fixed (T* send = data)
            fixed (T* receive = result)
            {
                runtime.Check("MPI_Allgather", native.Allgather(send, data.Length, receive, data.Length, type, handle));
            }
        });
        return result;
    }

    /// <summary>
    /// Splits the root's array into <see cref="Size"/> equal consecutive parts and gives part i to rank i
    /// (MPI_Scatter). The root first broadcasts the part length, so other processes pass <c>null</c>.
    /// </summary>
    /// <param name="data">On the root, the elements to split (a length divisible by <see cref="Size"/>); ignored elsewhere.</param>
    /// <param name="root">The rank that holds the data.</param>
    /// <returns>This process's part.</returns>
    /// <exception cref="MpiException">On every process, when the root's data is null or not divisible by <see cref="Size"/>.</exception>
    public T[] Scatter<T>(T[]? data, int root)
        where T : unmanaged
    {
        CheckRoot(root);
        var type = native.Datatype(MpiDatatypes.Of<T>());

        // The root announces the part length, or a negative code, so that a bad call fails on every
        // process instead of leaving the others blocked in MPI_Scatter.
        const int NoData = -1, NotDivisible = -2;
        int announced = 0;
        if (Rank == root)
        {
            announced = data is null ? NoData : data.Length % Size != 0 ? NotDivisible : data.Length / Size;
        }

        int count = Bcast(announced, root);
        if (count == NoData)
        {
            throw MpiErrors.ScatterNoData(root);
        }

        if (count == NotDivisible)
        {
            throw MpiErrors.ScatterNotDivisible(Rank == root ? data!.Length : null, Size, root);
        }

        var part = new T[count];
        T[]? source = Rank == root ? data : null;
        runtime.Run(() =>
        {
            fixed (T* send = source)
            fixed (T* receive = part)
            {
                runtime.Check("MPI_Scatter", native.Scatter(send, count, receive, count, type, root, handle));
            }
        });
        return part;
    }
}
