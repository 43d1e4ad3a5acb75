using CapCluster.Mpi;
using CapCluster.Mpi.Internal;

// Usage: CapCluster.Mpi.Tests.Program [multiple|serialized|funneled]
// Every line of output is "<rank> <key> <value>"; values are invariant-culture, arrays comma-separated.
var requested = args.Length > 0 ? Enum.Parse<ThreadLevel>(args[0], ignoreCase: true) : ThreadLevel.Multiple;
Mpi.Initialize(requested, MpiLibrary.NamesToTry());
var world = Mpi.World;
int rank = world.Rank, size = world.Size;
void Put(string key, object? value) =>
    Console.WriteLine(FormattableString.Invariant($"{rank} {key} {Format(value)}"));
static string Format(object? value) => value switch
{
    null => "null",
    System.Collections.IEnumerable items and not string =>
        string.Join(",", items.Cast<object>().Select(i => FormattableString.Invariant($"{i}"))),
    _ => FormattableString.Invariant($"{value}").ReplaceLineEndings(" / "),
};

Put("size", size);
Put("granted", Mpi.ThreadLevel);
Put("library", Mpi.LibraryName);
world.Barrier();
Put("barrier", "passed");

// Ring: scalars and arrays to the next rank, from the previous one. Even ranks send first so that a
// blocking send cannot deadlock however small the eager limit.
int next = (rank + 1) % size, previous = (rank + size - 1) % size;
if (size > 1)
{
    if (rank % 2 == 0)
    {
        world.Send(rank, next, 7);
        world.Send(new[] { rank + 0.5, rank * 10.0 }, next, 8);
        Put("ring", world.Recv<int>(previous, 7));
        Put("ringArray", world.Recv<double>(2, previous, 8));
    }
    else
    {
        int scalar = world.Recv<int>(previous, 7);
        var array = world.Recv<double>(2, previous, 8);
        world.Send(rank, next, 7);
        world.Send(new[] { rank + 0.5, rank * 10.0 }, next, 8);
        Put("ring", scalar);
        Put("ringArray", array);
    }

    // A short message into a longer buffer: the count received is reported.
    if (rank == 0)
    {
        world.Send(new long[] { 5, 6, 7 }, 1, 9);
    }
    else if (rank == 1)
    {
        var buffer = new long[10];
        int got = world.Recv(buffer, 0, 9);
        Put("partial", buffer[..got]);
    }
}

Put("bcastScalar", world.Bcast(rank == 0 ? 42 : -1, 0));
var bcastArray = rank == size - 1 ? new ushort[] { 1, 2, 65535 } : new ushort[3];
world.Bcast(bcastArray, size - 1);
Put("bcastArray", bcastArray);

Put("reduceScalar", world.Reduce(rank + 1, ReduceOp.Sum, 0));
Put("reduceArray", world.Reduce(new[] { rank, 1L, -rank }, ReduceOp.Sum, size - 1));
Put("allreduceSum", world.Allreduce(rank + 1, ReduceOp.Sum));
Put("allreduceProduct", world.Allreduce((long)(rank + 1), ReduceOp.Product));
Put("allreduceMax", world.Allreduce(rank * 1.5, ReduceOp.Max));
Put("allreduceMin", world.Allreduce((float)(rank - 1), ReduceOp.Min));
Put("allreduceArray", world.Allreduce(new[] { (byte)1, (byte)rank }, ReduceOp.Max));
Put("allreduceBor", world.Allreduce(1u << rank, ReduceOp.BitwiseOr));
Put("allreduceLand", world.Allreduce(rank == 0 ? (short)0 : (short)1, ReduceOp.LogicalAnd));
Put("allreduceFromThreadPool", await Task.Run(() => world.Allreduce((ulong)rank, ReduceOp.Sum)));

Put("gatherScalar", world.Gather(rank * rank, 0));
Put("gatherArray", world.Gather(new sbyte[] { (sbyte)rank, (sbyte)-rank }, 0));
Put("allgather", world.Allgather(new[] { rank * 100 }));
Put("scatter", world.Scatter(rank == 0 ? Enumerable.Range(0, 2 * size).ToArray() : null, 0));
try
{
    world.Scatter(rank == 0 ? new int[2 * size + 1] : null, 0);
    Put("scatterBad", "no error");
}
catch (MpiException e)
{
    Put("scatterBad", e.GetType().Name);
}

try
{
    world.Send(1, size + 3, 0);
    Put("sendBadRank", "no error");
}
catch (MpiException e)
{
    Put("sendBadRank", $"{e.Function}|{e.ErrorCode}|{e.Message}");
}

// Open MPI installs signal handlers at MPI_Init; .NET turns SIGSEGV into NullReferenceException.
try
{
    string? nothing = args.Length > 99 ? "x" : null;
    Put("nullRef", nothing!.Length);
}
catch (NullReferenceException)
{
    Put("nullRef", "caught");
}

world.Barrier();
Mpi.Finalize();
Put("finalized", Mpi.IsFinalized);
try
{
    _ = Mpi.World;
    Put("afterFinalize", "no error");
}
catch (MpiException)
{
    Put("afterFinalize", "MpiException");
}
