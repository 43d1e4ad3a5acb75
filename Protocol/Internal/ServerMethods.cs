using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace CapCluster.Protocol.Internal;

internal static class ServerMethods
{
    public static async Task<TReq> ReadSingleRequestAsync<TReq>(HttpContext http, MessageParser<TReq> parser, ServerCallContext context, ServerRuntime runtime)
        where TReq : class, IMessage<TReq>
    {
        var reader = new HttpContextStreamReader<TReq>(http, parser, context, runtime.Options.MaxReceiveMessageSize);
        if (!await reader.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, "the request stream ended without a request message"));
        }

        var request = reader.Current;
        if (await reader.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.Internal, "the request stream has more than one message for a single-request method"));
        }

        return request;
    }

    public static void WriteUnaryResponse<TResp>(HttpContext http, ServerCallContext context, TResp response, ServerRuntime runtime)
        where TResp : class, IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(response);
        var size = MessageFraming.CheckSendSize(response, runtime.Options.MaxSendMessageSize);

        // No flush: headers, message and trailers then leave together when the call completes.
        context.ResponseStarted = true;
        MessageFraming.Write(http.Response.BodyWriter, response, size);
    }
}

internal sealed class UnaryServerMethod<TReq, TResp>(Method<TReq, TResp> method, Func<TReq, ServerCallContext, Task<TResp>> handler) : ServerMethod
    where TReq : class, IMessage<TReq>, new()
    where TResp : class, IMessage<TResp>, new()
{
    public override async Task RunAsync(HttpContext http, ServerCallContext context, ServerRuntime runtime)
    {
        var request = await ServerMethods.ReadSingleRequestAsync(http, method.RequestParser, context, runtime).ConfigureAwait(false);
        var response = await handler(request, context).ConfigureAwait(false);
        ServerMethods.WriteUnaryResponse(http, context, response, runtime);
    }
}

internal sealed class ServerStreamingServerMethod<TReq, TResp>(
    Method<TReq, TResp> method, Func<TReq, IServerStreamWriter<TResp>, ServerCallContext, Task> handler) : ServerMethod
    where TReq : class, IMessage<TReq>, new()
    where TResp : class, IMessage<TResp>, new()
{
    public override async Task RunAsync(HttpContext http, ServerCallContext context, ServerRuntime runtime)
    {
        var request = await ServerMethods.ReadSingleRequestAsync(http, method.RequestParser, context, runtime).ConfigureAwait(false);
        var writer = new HttpContextStreamWriter<TResp>(http, context, runtime.Options.MaxSendMessageSize);
        try
        {
            await handler(request, writer, context).ConfigureAwait(false);
        }
        finally
        {
            writer.Complete();
        }
    }
}

internal sealed class ClientStreamingServerMethod<TReq, TResp>(
    Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, ServerCallContext, Task<TResp>> handler) : ServerMethod
    where TReq : class, IMessage<TReq>, new()
    where TResp : class, IMessage<TResp>, new()
{
    public override async Task RunAsync(HttpContext http, ServerCallContext context, ServerRuntime runtime)
    {
        var reader = new HttpContextStreamReader<TReq>(http, method.RequestParser, context, runtime.Options.MaxReceiveMessageSize);
        var response = await handler(reader, context).ConfigureAwait(false);
        ServerMethods.WriteUnaryResponse(http, context, response, runtime);
    }
}

internal sealed class DuplexServerMethod<TReq, TResp>(
    Method<TReq, TResp> method, Func<IAsyncStreamReader<TReq>, IServerStreamWriter<TResp>, ServerCallContext, Task> handler) : ServerMethod
    where TReq : class, IMessage<TReq>, new()
    where TResp : class, IMessage<TResp>, new()
{
    public override async Task RunAsync(HttpContext http, ServerCallContext context, ServerRuntime runtime)
    {
        var reader = new HttpContextStreamReader<TReq>(http, method.RequestParser, context, runtime.Options.MaxReceiveMessageSize);
        var writer = new HttpContextStreamWriter<TResp>(http, context, runtime.Options.MaxSendMessageSize);
        try
        {
            await handler(reader, writer, context).ConfigureAwait(false);
        }
        finally
        {
            writer.Complete();
        }
    }
}
