using CapCluster.Mpi.Internal;

namespace CapCluster.Mpi.Tests;

/// <summary>Finding the library, without initialising MPI.</summary>
public sealed class MpiLibraryTests
{
    [Fact]
    public void Load_WithNoLoadableLibrary_ThrowsNamingTheLibrariesAndThePackage()
    {
        string[] names = ["libcapcluster-no-such-mpi.so.99", "libnot-mpi-either.so"];

        var error = Assert.Throws<MpiNotAvailableException>(() => MpiLibrary.Load(names));

        Assert.Equal(names, error.LibrariesTried);
        Assert.Contains("libcapcluster-no-such-mpi.so.99", error.Message, StringComparison.Ordinal);
        Assert.Contains("libnot-mpi-either.so", error.Message, StringComparison.Ordinal);
        Assert.Contains("apt-get install openmpi-bin", error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<CapClusterException>(error);
    }

    [Fact]
    public void Load_OfALibraryThatIsNotMpi_ThrowsNamingTheMissingFunction()
    {
        var error = Assert.Throws<MpiNotAvailableException>(() => MpiLibrary.Load(["libc.so.6"]));

        Assert.Contains("libc.so.6", error.Message, StringComparison.Ordinal);
        Assert.Contains("MPI_Init_thread", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultNames_TryOpenMpiThenMpichThenAnyLibmpi()
    {
        Assert.Equal(["libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so"], MpiLibrary.DefaultNames);
    }

    [Infrastructure.MpiLibraryFact]
    public void Load_OfTheInstalledLibrary_PicksItsAbi()
    {
        var native = MpiLibrary.Load(MpiLibrary.DefaultNames);

        var expected = native.LibraryName == "libmpi.so.40" ? MpiAbiKind.OpenMpi : MpiAbiKind.Mpich;
        Assert.Equal(expected, native.Abi);
        Assert.NotEqual(0, native.CommWorld);
        Assert.NotEqual(native.Datatype(MpiDatatype.Int32), native.Datatype(MpiDatatype.UInt32));
        Assert.NotEqual(native.Op(ReduceOp.Sum), native.Op(ReduceOp.Max));
    }

    [Fact]
    public void Datatypes_MapEveryPrimitiveToItsOwnMpiType()
    {
        Assert.Equal(MpiDatatype.Int8, MpiDatatypes.Of<sbyte>());
        Assert.Equal(MpiDatatype.UInt8, MpiDatatypes.Of<byte>());
        Assert.Equal(MpiDatatype.Int16, MpiDatatypes.Of<short>());
        Assert.Equal(MpiDatatype.UInt16, MpiDatatypes.Of<ushort>());
        Assert.Equal(MpiDatatype.Int32, MpiDatatypes.Of<int>());
        Assert.Equal(MpiDatatype.UInt32, MpiDatatypes.Of<uint>());
        Assert.Equal(MpiDatatype.Int64, MpiDatatypes.Of<long>());
        Assert.Equal(MpiDatatype.UInt64, MpiDatatypes.Of<ulong>());
        Assert.Equal(MpiDatatype.Float, MpiDatatypes.Of<float>());
        Assert.Equal(MpiDatatype.Double, MpiDatatypes.Of<double>());
        Assert.Throws<MpiException>(() => MpiDatatypes.Of<bool>());
    }

    [Fact]
    public void HandleTables_CoverEveryDatatypeAndOp()
    {
        Assert.Equal(Enum.GetValues<MpiDatatype>().Length, OpenMpiHandles.Datatypes.Length);
        Assert.Equal(Enum.GetValues<MpiDatatype>().Length, MpichHandles.Datatypes.Length);
        Assert.Equal(Enum.GetValues<ReduceOp>().Length, OpenMpiHandles.Ops.Length);
        Assert.Equal(Enum.GetValues<ReduceOp>().Length, MpichHandles.Ops.Length);
        Assert.Equal(MpichHandles.Datatypes.Length, MpichHandles.Datatypes.Distinct().Count());
        Assert.Equal(MpichHandles.Ops.Length, MpichHandles.Ops.Distinct().Count());
    }
}
