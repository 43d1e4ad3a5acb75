using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using CapCluster.Protocol.Data;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.DataLanes;

/// <summary>
/// One end of a data lane: a connection straight to the other end (client or engine), which the
/// controller splices without decrypting. The ends authenticate each other with TLS 1.3 and exchange
/// keys inside it; then the lane's own AES-GCM records carry the data (see <see cref="LaneRecords"/>).
/// When both ends are on the controller's host and joined on its local socket, the lane is a Unix socket
/// between them and the data travels as plain records, through the kernel only (<see cref="IsLocal"/>).
/// Bulk values travel as frames, each the value trees and then the raw blob bytes; received blobs are
/// read and decrypted straight into their final arrays.
/// Sends are serialized; receives are claimed by transfer id. The bytes move with blocking calls on
/// threads of their own, and the socket is never used asynchronously: once it was, the runtime's epoll
/// loop would wake a thread-pool worker for every packet, and on a small machine those workers spin on
/// the cores that the other end and the controller need.
/// </summary>
public sealed partial class LaneConnection : IAsyncDisposable
{
    /// <summary>Largest frame header (value trees) accepted. Blob bytes are not counted.</summary>
    public const int MaxFrameHeaderSize = 16 * 1024 * 1024;

    private static readonly TimeSpan EndWait = TimeSpan.FromSeconds(1);

    /// <summary>How long a frame's transfer may wait for its announcement, which travels another way (the controller's link).</summary>
    public static readonly TimeSpan ExpectTimeout = TimeSpan.FromSeconds(10);

    private readonly LaneSocketStream network;
    private readonly LaneRecordKey? sendKey;
    private readonly ILaneRecordReader records;
    private readonly LaneRecordKey? receiveKey;
    private readonly SemaphoreSlim writeTurn = new(1, 1);
    private readonly LaneInbox inbox = new();
    private readonly Task reader;
    private int closing;
    private int disposed;

    /// <summary>A lane whose records are sealed with these keys; with none, a local lane of plain records.</summary>
    private LaneConnection(LaneSocketStream network, LaneRecordKey? sendKey, LaneRecordKey? receiveKey, string name)
    {
        this.network = network;
        this.sendKey = sendKey;
        this.receiveKey = receiveKey;
        records = receiveKey is null ? new LanePlainRecordReader(network) : new LaneRecordReader(network, receiveKey);
        Name = name;
        reader = Task.Factory.StartNew(ReadAll, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>How errors name this lane.</summary>
    public string Name { get; }

    /// <summary>Completes (never faults) when the lane has closed, for whatever reason.</summary>
    public Task Closed => reader;

    /// <summary>Why the lane closed (the other end closed it, it broke, a frame was refused), once <see cref="Closed"/> has completed.</summary>
    public LaneException? CloseReason { get; private set; }

    /// <summary>False once the lane has closed.</summary>
    public bool IsOpen => !reader.IsCompleted;

    /// <summary>
    /// True when the lane is a Unix socket between two processes of the controller's host, which the controller
    /// handed over after checking both peers' uids: its bytes go through the kernel only, without TLS. False for a
    /// lane that runs TLS (spliced by the controller, or handed to a local engine from a client on the network).
    /// </summary>
    public bool IsLocal => sendKey is null;

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

    /// <summary>
    /// Lets transfer <paramref name="transfer"/> arrive on this lane, with at most <paramref name="maxBytes"/> blob
    /// bytes: a frame of any other transfer, or with more bytes, closes the lane before anything of it is allocated.
    /// </summary>
    public void Expect(long transfer, long maxBytes) => inbox.Expect(transfer, maxBytes);

    /// <summary>Takes back <see cref="Expect"/> for a transfer that will not come (its call ended).</summary>
    public void Forget(long transfer) => inbox.Forget(transfer);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await EndAsync().ConfigureAwait(false);
        Close();
        await reader.ConfigureAwait(false);
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }

        // A send still running fails at once on the closed socket; after it, nobody uses the key. The turn
        // is given back, not disposed, so that a send still queued for it finds the lane closed instead of waiting.
        await writeTurn.WaitAsync().ConfigureAwait(false);
        sendKey?.Destroy();
        writeTurn.Release();
    }

    /// <summary>
    /// Sends the end-of-stream record, so that the other end tells this close from a cut; skipped when a send holds
    /// the lane for more than a moment (the close then cuts it mid-frame, which the other end reports as a cut).
    /// </summary>
    private async Task EndAsync()
    {
        if (!IsOpen || Volatile.Read(ref disposed) == 1 || !await writeTurn.WaitAsync(EndWait).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            if (IsOpen)
            {
                using var writer = Writer();
                writer.WriteEnd();
                writer.Flush();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The other end went first: there is nobody to tell.
        }
        finally
        {
            writeTurn.Release();
        }
    }

    /// <summary>Closes the socket; a read or write blocked on it fails, and the reader ends saying the lane is closed.</summary>
    private void Close()
    {
        Volatile.Write(ref closing, 1);
        network.Dispose();
    }

    private void Write(ReadOnlySpan<byte> header, IReadOnlyList<ReadOnlyMemory<byte>> blobs)
    {
        using var writer = Writer();
        writer.Write(header);
        foreach (var blob in blobs)
        {
            writer.Write(blob.Span);
        }

        writer.Flush();
    }

    private ILaneRecordWriter Writer() => sendKey is null ? new LanePlainRecordWriter(network) : new LaneRecordWriter(network, sendKey);
}
