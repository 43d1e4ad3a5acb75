using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using CapCluster.Protocol.DataLanes;
using CapCluster.Protocol.Internal;
using CapCluster.Protocol.Lanes;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol.StreamLanes;

/// <summary>
/// One long-lived stream (a client's task stream, an engine's link) on a connection of its own to the
/// controller, in place of an HTTP/2 stream: the same messages, framed as lane.proto says, inside TLS, or as they
/// are on the controller's local socket (a caller on its host with its uid). A small task's
/// round trip crosses four such streams, and on HTTP/2 each crossing cost 60–140 µs of framing, flow control
/// and thread-pool hops at both ends. Here the bytes move with blocking calls: a reader thread of its own
/// parses each message and hands it to the waiting <see cref="MoveNext"/>, whose continuation runs right
/// there, on that thread; <see cref="WriteAsync(TSend)"/> encrypts and sends on the caller's thread, and never
/// blocks it (what the peer does not take at once waits for a sender thread, see <see cref="LaneSender"/>).
/// Like <see cref="LaneConnection"/>, the socket is never used asynchronously (see its remarks).
/// </summary>
/// <typeparam name="TSend">What this end writes.</typeparam>
/// <typeparam name="TReceive">What this end reads.</typeparam>
public sealed partial class StreamLane<TSend, TReceive> : IAsyncStreamReader<TReceive>, IServerStreamWriter<TSend>, IClientStreamWriter<TSend>, IReaderThread, IDisposable
    where TSend : class, IMessage<TSend>
    where TReceive : class, IMessage<TReceive>
{
    private const byte MessageFrame = 0;
    private const byte EndFrame = 1;
    private const int FrameHeaderSize = 5;

    private static readonly Task<bool> TrueTask = Task.FromResult(true);
    private static readonly Task<bool> FalseTask = Task.FromResult(false);

    // Messages read ahead of the consumer; past this many the reader stops reading and TCP pushes back.
    private const int MaxReadAhead = 4096;

    // After the controller has ended the call, how long the caller has to close its side.
    private static readonly TimeSpan LingerAfterEnd = TimeSpan.FromSeconds(5);

    private readonly Stream stream;
    private readonly MessageParser<TReceive> parser;
    private readonly int maxReceiveSize;
    private readonly int maxSendSize;
    private readonly bool isCaller;
    // On the caller's end, whether the controller has closed the connection, asked before each message is written: a
    // message it could never read fails as not sent (ChannelFailures.NotSent), so the caller may send it again on its
    // next stream, rather than as lost in the break (which a message written before it may or may not have been). A
    // poll(2), under a microsecond.
    private readonly Func<bool>? peerClosed;
    private readonly Queue<TReceive> readAhead = new();
    private readonly Lock writeLock = new();
    private readonly CancellationTokenSource closed = new();
    private readonly CancellationTokenRegistration callCancellation;
    private readonly TaskCompletionSource finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource<bool>? waiting;
    private CancellationTokenRegistration waitingCancellation;
    private RpcException? endError;
    private bool ended;
    private bool sentEnd;
    private int closing;

    internal StreamLane(Stream stream, MessageParser<TReceive> parser, int maxReceiveSize, int maxSendSize, string name, bool isCaller, Func<bool>? peerClosed, CancellationToken cancellationToken)
    {
        this.peerClosed = peerClosed;
        this.stream = stream;
        this.parser = parser;
        this.maxReceiveSize = maxReceiveSize;
        this.maxSendSize = maxSendSize;
        this.isCaller = isCaller;
        Name = name;
        handOver = new Timer(static s => ((StreamLane<TSend, TReceive>)s!).HandOver(), this, Timeout.Infinite, Timeout.Infinite);
        StartReader(0);
        callCancellation = cancellationToken.Register(Abort);
    }

    /// <summary>How errors name this stream.</summary>
    public string Name { get; }

    /// <summary>Whether it runs without TLS, on the controller's local socket (see <see cref="StreamLaneEnds"/>).</summary>
    public bool IsLocal => stream is not SslStream;

    /// <summary>Cancelled once the connection is gone: closed by either end, broken, or aborted.</summary>
    public CancellationToken Closed => closed.Token;

    /// <summary>Completes when the reader has stopped and the connection is closed.</summary>
    public Task Finished => finished.Task;

    /// <inheritdoc />
    public TReceive Current { get; private set; } = null!;

    /// <inheritdoc />
    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> next;
        lock (readAhead)
        {
            if (readAhead.TryDequeue(out var message))
            {
                Current = message;
                Monitor.Pulse(readAhead);
                return TrueTask;
            }

            if (ended)
            {
                return endError is null ? FalseTask : Task.FromException<bool>(endError);
            }

            // No RunContinuationsAsynchronously: the reader thread that completes it runs the consumer's continuation.
            next = new TaskCompletionSource<bool>();
            waiting = next;
            if (cancellationToken.CanBeCanceled)
            {
                waitingCancellation = cancellationToken.UnsafeRegister(static (s, token) => ((StreamLane<TSend, TReceive>)s!).CancelWait(token), this);
            }
        }

        return next.Task;
    }

    /// <summary>The call's status once the other end has ended it: OK, or the failure that ended it.</summary>
    /// <exception cref="InvalidOperationException">The call has not ended yet.</exception>
    public Status GetStatus()
    {
        lock (readAhead)
        {
            return !ended ? throw new InvalidOperationException($"{Name} has not ended yet") : endError?.Status ?? Status.DefaultSuccess;
        }
    }

    /// <summary>Not used: a lane sends each message as it is written.</summary>
    public WriteOptions? WriteOptions { get; set; }

    /// <inheritdoc />
    public Task WriteAsync(TSend message) => WriteAsync(message, CancellationToken.None);

    /// <inheritdoc />
    public Task WriteAsync(TSend message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var size = message.CalculateSize();
        if (size > maxSendSize)
        {
            return Task.FromException(new RpcException(new Status(StatusCode.ResourceExhausted,
                $"a message of {size} bytes is larger than the limit of {maxSendSize} bytes on {Name}")));
        }

        try
        {
            Send(MessageFrame, message, size);
            return Task.CompletedTask;
        }
        catch (RpcException e)
        {
            return Task.FromException(e);
        }
    }

    /// <summary>Ends this side with OK: the caller's half-close. Calling it more than once is harmless.</summary>
    public Task CompleteAsync()
    {
        try
        {
            End(Status.DefaultSuccess);
            return Task.CompletedTask;
        }
        catch (RpcException e)
        {
            return Task.FromException(e);
        }
    }

    /// <summary>
    /// Ends the call with <paramref name="status"/> (the controller's side, as gRPC trailers would), then waits a
    /// little for the caller to close its side before closing the connection. A broken connection is not an error here.
    /// </summary>
    public void Finish(Status status)
    {
        try
        {
            End(status);
        }
        catch (RpcException)
        {
            Abort();
            return;
        }

        _ = finished.Task.WaitAsync(LingerAfterEnd).ContinueWith(static (_, s) => ((StreamLane<TSend, TReceive>)s!).Abort(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Closes the connection at once; a waiting read fails, and the other end sees the stream break.</summary>
    public void Abort()
    {
        Volatile.Write(ref closing, 1);
        stream.Dispose();
    }

    /// <summary>Closes the connection (see <see cref="Abort"/>).</summary>
    public void Dispose()
    {
        Abort();
        callCancellation.Dispose();
    }

    private void End(Status status)
    {
        var end = new StreamEnd { Code = (int)status.StatusCode, Detail = status.Detail ?? string.Empty };
        Send(EndFrame, end, end.CalculateSize());
    }

    /// <summary>Writes one frame: its kind, the message's <paramref name="size"/>, then the message.</summary>
    private void Send(byte kind, IMessage message, int size)
    {
        var frame = ArrayPool<byte>.Shared.Rent(FrameHeaderSize + size);
        try
        {
            frame[0] = kind;
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), size);
            message.WriteTo(frame.AsSpan(FrameHeaderSize, size));
            Send(frame.AsSpan(0, FrameHeaderSize + size), end: kind == EndFrame);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private void Send(ReadOnlySpan<byte> frame, bool end)
    {
        lock (writeLock)
        {
            if (sentEnd)
            {
                if (end)
                {
                    return;
                }

                throw new RpcException(new Status(isCaller ? StatusCode.Internal : StatusCode.Cancelled, $"{Name}: this side of the stream has already ended"));
            }

            // Closed on this side already (its reader found the connection gone), or by the other end, as this host's kernel
            // knows even before the reader does: nothing of this message would reach a reader.
            var closedHere = Volatile.Read(ref closing) == 1;
            if (!end && (closedHere || (peerClosed?.Invoke() ?? false)))
            {
                var detail = closedHere ? $"{Name} is closed" : $"{Name} was closed by the other end before a message was sent";
                throw new RpcException(new Status(StatusCode.Unavailable, detail, new MessageNotSentException(detail)));
            }

            try
            {
                stream.Write(frame);
                sentEnd = end;
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or NotSupportedException)
            {
                Abort();
                throw new RpcException(new Status(StatusCode.Unavailable, Volatile.Read(ref closing) == 1 ? $"{Name} is closed" : $"{Name} broke while sending: {e.Message}", e));
            }
        }
    }

    private void CancelWait(CancellationToken token)
    {
        TaskCompletionSource<bool>? cancelled;
        lock (readAhead)
        {
            cancelled = waiting;
            waiting = null;
        }

        if (cancelled is not null)
        {
            // As on HTTP/2, cancelling a read cancels the whole call.
            Abort();
            cancelled.TrySetCanceled(token);
        }
    }

    private void Deliver(TReceive message)
    {
        TaskCompletionSource<bool>? next;
        lock (readAhead)
        {
            next = waiting;
            if (next is null)
            {
                while (readAhead.Count >= MaxReadAhead && Volatile.Read(ref closing) == 0)
                {
                    Monitor.Wait(readAhead, TimeSpan.FromSeconds(1));
                }

                readAhead.Enqueue(message);
                return;
            }

            waiting = null;
            Current = message;
            waitingCancellation.Unregister();
        }

        next.TrySetResult(true);
    }

    private void EndReading(RpcException? error)
    {
        TaskCompletionSource<bool>? next;
        lock (readAhead)
        {
            if (ended)
            {
                return;
            }

            ended = true;
            endError = error;
            next = waiting;
            waiting = null;
            waitingCancellation.Unregister();
        }

        if (error is null)
        {
            next?.TrySetResult(false);
        }
        else
        {
            next?.TrySetException(error);
        }
    }

    /// <summary>Reads and delivers until the stream ends (false) or another thread takes over reading (true).</summary>
    private bool ReadAll(long epoch)
    {
        var header = new byte[FrameHeaderSize];
        RpcException? failure = null;
        try
        {
            while (true)
            {
                if (!RunPosted(epoch))
                {
                    // Another thread reads now (see HandOver); this one only had to finish what it ran.
                    return true;
                }

                var read = stream.ReadAtLeast(header, FrameHeaderSize, throwOnEndOfStream: false);
                if (read < FrameHeaderSize)
                {
                    failure = new RpcException(new Status(StatusCode.Unavailable, read == 0 && Volatile.Read(ref closing) == 1 ? $"{Name} is closed" : $"{Name} was closed by the other end"));
                    break;
                }

                var kind = header[0];
                var size = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
                if (size < 0 || size > maxReceiveSize || kind is not (MessageFrame or EndFrame))
                {
                    failure = new RpcException(new Status(StatusCode.Internal, kind is MessageFrame or EndFrame
                        ? $"{Name} sent a message of {size} bytes (the limit is {maxReceiveSize})"
                        : $"{Name} sent a frame of unknown kind {kind}"));
                    break;
                }

                var payload = ArrayPool<byte>.Shared.Rent(size);
                try
                {
                    stream.ReadExactly(payload.AsSpan(0, size));
                    Delivering(true);
                    if (kind == MessageFrame)
                    {
                        Deliver(parser.ParseFrom(payload.AsSpan(0, size)));
                        continue;
                    }

                    var end = StreamEnd.Parser.ParseFrom(payload.AsSpan(0, size));
                    EndReading(end.Code == 0 ? null : new RpcException(new Status((StatusCode)end.Code, end.Detail)));
                }
                finally
                {
                    Delivering(false);
                    ArrayPool<byte>.Shared.Return(payload);
                }

                if (isCaller)
                {
                    // The controller ended the call: nothing more comes, and this end closes the connection.
                    RunPosted(epoch);
                    return false;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidProtocolBufferException or EndOfStreamException)
        {
            failure = new RpcException(new Status(StatusCode.Unavailable, Volatile.Read(ref closing) == 1 ? $"{Name} is closed" : $"{Name} broke: {e.Message}", e));
        }
        finally
        {
            if (IsReader(epoch))
            {
                Delivering(true);
                EndReading(failure);
                Delivering(false);
                RunPosted(epoch);
                Abort();
                closed.Cancel();
                handOver.Dispose();
                WakeSpare();
                lock (readAhead)
                {
                    Monitor.PulseAll(readAhead);
                }

                finished.TrySetResult();
            }
        }

        return false;
    }
}
