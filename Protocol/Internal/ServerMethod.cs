using Microsoft.AspNetCore.Http;

namespace CapCluster.Protocol.Internal;

/// <summary>A mapped method: reads the request(s), runs the handler, writes the response(s) without the status.</summary>
internal abstract class ServerMethod
{
    public abstract Task RunAsync(HttpContext http, ServerCallContext context, ServerRuntime runtime);
}
