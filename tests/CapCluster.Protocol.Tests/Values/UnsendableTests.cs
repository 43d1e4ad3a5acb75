using System.Net.Sockets;
using CapCluster.Protocol.Values;

namespace CapCluster.Protocol.Tests.Values;

public sealed record WithStream(string Name, Stream Data);

public sealed class NoConstructor
{
    private NoConstructor(int value) => Value = value;

    public int Value { get; }

    public static NoConstructor Make() => new(1);
}

public sealed class UnsendableTests
{
    [Fact]
    public void Socket_IsRefused_NamingTheValueAndItsType()
    {
        using var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(sock, "push 'sock'"));

        Assert.Equal("push 'sock': System.Net.Sockets.Socket cannot be sent: it is not data (no JSON form)", error.Message);
        Assert.Equal("push 'sock'", error.ValueName);
        Assert.Equal(typeof(Socket), error.ValueType);
    }

    [Fact]
    public void Stream_IsRefused()
    {
        using var stream = new MemoryStream();

        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(stream, "captured variable 'stream'"));

        Assert.StartsWith("captured variable 'stream': System.IO.MemoryStream cannot be sent", error.Message);
    }

    [Fact]
    public void Delegate_IsRefused()
    {
        Func<int> f = () => 1;

        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(f, "push 'f'"));

        Assert.Contains("push 'f': System.Func<System.Int32> cannot be sent: it is a delegate", error.Message);
    }

    [Fact]
    public void Task_IsRefused()
    {
        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(Task.FromResult(3), "push 't'"));

        Assert.Contains("push 't'", error.Message);
        Assert.Contains("System.Threading.Tasks.Task", error.Message);
    }

    [Theory]
    [InlineData("pointer")]
    [InlineData("type")]
    [InlineData("method")]
    [InlineData("no constructor")]
    [InlineData("string matrix")]
    [InlineData("8-tuple")]
    public void OtherNonData_IsRefused(string kind)
    {
        object value = kind switch
        {
            "pointer" => IntPtr.Zero,
            "type" => typeof(int),
            "method" => typeof(string).GetMethod("Trim", Type.EmptyTypes)!,
            "no constructor" => NoConstructor.Make(),
            "string matrix" => new string[2, 2],
            _ => (1, 2, 3, 4, 5, 6, 7, 8),
        };

        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(value, "push 'v'"));

        Assert.StartsWith("push 'v': ", error.Message);
        Assert.Contains("cannot be sent", error.Message);
    }

    [Fact]
    public void SocketInsideAList_IsRefused_WithItsPath()
    {
        using var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var value = new Dictionary<string, object> { ["conns"] = new List<object> { 1, sock } };

        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(value, "push 'state'"));

        Assert.Equal("push 'state': System.Net.Sockets.Socket (at [conns][1]) cannot be sent: it is not data (no JSON form)", error.Message);
    }

    [Fact]
    public void RecordHoldingAStream_IsRefused_NamingTheMember()
    {
        using var stream = new MemoryStream();

        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(new WithStream("x", stream), "push 'w'"));

        Assert.Contains("WithStream cannot be sent: its member 'Data' is System.IO.Stream", error.Message);
    }

    [Fact]
    public void ListContainingItself_IsRefused()
    {
        var list = new List<object>();
        list.Add(list);

        var error = Assert.Throws<UnsendableValueException>(() => ValueCodec.Encode(list, "push 'loop'"));

        Assert.Contains("nested more than", error.Message);
    }
}
