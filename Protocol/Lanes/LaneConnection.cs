using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.Internal;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.Lanes;

/// <summary>
/// One end of a data lane: a TLS 1.3 stream straight to the other end (client or engine), which the
/// controller splices without decrypting. Bulk values travel on it as frames, each the value trees
/// and then the raw blob bytes; received blobs are read straight into their final arrays.
/// Sends are serialized; receives are claimed by transfer id. The bytes move with blocking calls on
/// threads of their own, and the socket is never used asynchronously: once it was, the runtime's epoll
/// loop would wake a thread-pool worker for every packet, and on a small machine those workers spin on
/// the cores that the other end and the controller need.
/// </summary>
public sealed partial class LaneConnection : IAsyncDisposable
{
    /// <summary>Largest frame header (value trees) accepted. Blob bytes are not counted.</summary>
    public const int MaxFrameHeaderSize = 16 * 1024 * 1024;

    // Blobs go to the TLS stream in slices: SslStream encrypts record by record either way,
    // and smaller writes let the kernel move one slice while the next is encrypted.
    private const int WriteSlice = 256 * 1024;

    private readonly SslStream stream;
    private readonly SemaphoreSlim writeTurn = new(1, 1);
    private readonly LaneInbox inbox = new();
    private readonly Task reader;
    private int closing;

    private LaneConnection(SslStream stream, string name)
    {
        this.stream = stream;
        Name = name;
        reader = Task.Factory.StartNew(ReadAll, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>How errors name this lane.</summary>
    public string Name { get; }

    /// <summary>Completes (never faults) when the lane has closed, for whatever reason.</summary>
    public Task Closed => reader;

    /// <summary>False once the lane has closed.</summary>
    public bool IsOpen => !reader.IsCompleted;

    /// <summary>
    /// Sends <paramref name="values"/> (trees) and their <paramref name="blobs"/> as transfer
    /// <paramref name="transfer"/>. The blobs are read, not copied, until this completes.
    /// </summary>
    /// <exception cref="LaneException">The lane is closed or broke while sending (it is then closed).</exception>
    public async Task SendAsync(long transfer, IEnumerable<NamedValue> values, IReadOnlyList<ReadOnlyMemory<byte>> blobs, CancellationToken cancellationToken)
    {
        var frame = new LaneFrame { Transfer = transfer, Values = { values }, BlobLengths = { DataChunks.Lengths(blobs) } };
        var size = frame.CalculateSize();
        var header = ArrayPool<byte>.Shared.Rent(4 + size);
        BinaryPrimitives.WriteInt32BigEndian(header, size);
        frame.WriteTo(header.AsSpan(4, size));
        await writeTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsOpen)
            {
                throw new LaneException($"{Name} is closed");
            }

            // Cancelling mid-frame can only close the lane: the other end cannot resynchronise.
            using var cancel = cancellationToken.Register(Close);
            await Task.Factory.StartNew(() => Write(header.AsSpan(0, 4 + size), blobs), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Half a frame leaves the other end out of step: the lane cannot be used again.
            Close();
            throw e is OperationCanceledException ? e : new LaneException($"{Name} broke while sending: {e.Message}", e);
        }
        finally
        {
            writeTurn.Release();
            ArrayPool<byte>.Shared.Return(header);
        }
    }

    /// <summary>The values of transfer <paramref name="transfer"/>, once every byte has arrived.</summary>
    /// <exception cref="LaneException">The lane closed before the transfer arrived.</exception>
    public Task<ReceivedValues> ReceiveAsync(long transfer, CancellationToken cancellationToken) =>
        inbox.ClaimAsync(transfer, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Close();
        await reader.ConfigureAwait(false);
        writeTurn.Dispose();
    }

    /// <summary>Closes the stream; a read or write blocked on it fails, and the reader ends saying the lane is closed.</summary>
    private void Close()
    {
        Volatile.Write(ref closing, 1);
        stream.Dispose();
    }

    private void Write(ReadOnlySpan<byte> header, IReadOnlyList<ReadOnlyMemory<byte>> blobs)
    {
        stream.Write(header);
        foreach (var blob in blobs)
        {
            for (var offset = 0; offset < blob.Length; offset += WriteSlice)
            {
                stream.Write(blob.Span.Slice(offset, Math.Min(WriteSlice, blob.Length - offset)));
            }
        }

        stream.Flush();
    }

    private void ReadAll()
    {
        Exception reason;
        var prefix = new byte[4];
        try
        {
            while (true)
            {
                if (stream.ReadAtLeast(prefix, 4, throwOnEndOfStream: false) < 4)
                {
                    reason = new LaneException($"{Name} was closed by the other end");
                    break;
                }

                var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
                if (size is < 0 or > MaxFrameHeaderSize)
                {
                    reason = new LaneException($"{Name} sent a frame header of {size} bytes (the limit is {MaxFrameHeaderSize})");
                    break;
                }

                var header = ArrayPool<byte>.Shared.Rent(size);
                LaneFrame frame;
                try
                {
                    stream.ReadExactly(header.AsSpan(0, size));
                    frame = LaneFrame.Parser.ParseFrom(header, 0, size);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(header);
                }

                var values = new ReceivedValues(frame.Values, frame.BlobLengths);
                values.ReadBlobs(stream);
                inbox.Deliver(frame.Transfer, values);
            }
        }
        catch (Exception e) when (Volatile.Read(ref closing) == 1 && e is IOException or SocketException or ObjectDisposedException)
        {
            reason = new LaneException($"{Name} is closed");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidProtocolBufferException or RpcException or Values.MalformedValueException)
        {
            reason = new LaneException($"{Name} broke: {(e is RpcException rpc ? rpc.Status.Detail : e.Message)}", e);
        }

        inbox.Close(reason);
        Close();
    }
}
