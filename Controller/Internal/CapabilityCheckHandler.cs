using CapCluster.Protocol;
using CapCluster.Protocol.V1;
using CapCluster.Security;

namespace CapCluster.Controller.Internal;

/// <summary>
/// The <c>Check</c> method of every service: the gate has just accepted the caller's capability (whatever its
/// method allow-list), so the answer is what the registry holds for it. <c>furlgen verify --online</c> uses it.
/// </summary>
internal static class CapabilityCheckHandler
{
    public static Task<CheckReply> Check(ServerCallContext context)
    {
        if (CallItems.CapabilityOf(CallContext.Of(context)) is not { } record)
        {
            throw new RpcException(new Status(StatusCode.Internal, "the call reached Check without an accepted capability"));
        }

        return Task.FromResult(new CheckReply
        {
            CapabilityId = record.Id,
            Interface = record.Interface,
            Label = record.Label ?? string.Empty,
            ExpiresUnixMs = record.Expires?.ToUnixTimeMilliseconds() ?? 0,
            AllowedMethods = { record.AllowedMethods ?? [] },
            MaxTasks = record.MaxTasks ?? -1,
            ParentId = record.ParentId ?? string.Empty,
        });
    }
}
