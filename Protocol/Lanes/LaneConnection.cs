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
/// Sends are serialized; receives are claimed by transfer id.
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
    private readonly CancellationTokenSource lifetime = new();
    private readonly Task reader;

    private LaneConnection(SslStream stream, string name)
    {
        this.stream = stream;
        Name = name;
        reader = ReadAllAsync();
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

            await stream.WriteAsync(header.AsMemory(0, 4 + size), cancellationToken).ConfigureAwait(false);
            foreach (var blob in blobs)
            {
                for (var offset = 0; offset < blob.Length; offset += WriteSlice)
                {
                    await stream.WriteAsync(blob.Slice(offset, Math.Min(WriteSlice, blob.Length - offset)), cancellationToken).ConfigureAwait(false);
                }
            }

            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Half a frame leaves the other end out of step: the lane cannot be used again.
            await CloseAsync().ConfigureAwait(false);
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
        await CloseAsync().ConfigureAwait(false);
        await reader.ConfigureAwait(false);
        writeTurn.Dispose();
        lifetime.Dispose();
    }

    private async Task CloseAsync()
    {
        if (!lifetime.IsCancellationRequested)
        {
            await lifetime.CancelAsync().ConfigureAwait(false);
        }

        await stream.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ReadAllAsync()
    {
        await Task.Yield();
        Exception reason;
        var prefix = new byte[4];
        try
        {
            while (true)
            {
                if (await stream.ReadAtLeastAsync(prefix, 4, throwOnEndOfStream: false, lifetime.Token).ConfigureAwait(false) < 4)
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
                    await stream.ReadExactlyAsync(header.AsMemory(0, size), lifetime.Token).ConfigureAwait(false);
                    frame = LaneFrame.Parser.ParseFrom(header, 0, size);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(header);
                }

                var values = new ReceivedValues(frame.Values, frame.BlobLengths);
                await values.ReadBlobsAsync(stream, lifetime.Token).ConfigureAwait(false);
                inbox.Deliver(frame.Transfer, values);
            }
        }
        catch (OperationCanceledException)
        {
            reason = new LaneException($"{Name} is closed");
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidProtocolBufferException or RpcException or Values.MalformedValueException)
        {
            reason = new LaneException($"{Name} broke: {(e is RpcException rpc ? rpc.Status.Detail : e.Message)}", e);
        }

        inbox.Close(reason);
        if (!lifetime.IsCancellationRequested)
        {
            await lifetime.CancelAsync().ConfigureAwait(false);
        }

        await stream.DisposeAsync().ConfigureAwait(false);
    }
}
