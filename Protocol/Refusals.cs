using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Protocol;

/// <summary>
/// How a <see cref="Refusal"/> travels with a refused gRPC call: the binary trailer <see cref="TrailerName"/>, read
/// by clients instead of the status message's text.
/// </summary>
public static class Refusals
{
    /// <summary>The trailer (binary, so base64 on the wire) that carries a call's <see cref="Refusal"/>.</summary>
    public const string TrailerName = "capcluster-refusal-bin";

    /// <summary>What a status message starts with when the controller refused the call, for people and standard tools.</summary>
    public const string DetailPrefix = "refused by the controller: ";

    /// <summary>The refused call's status and trailer: <paramref name="code"/>, the reason for people, and the refusal for programs.</summary>
    public static RpcException Exception(StatusCode code, Refusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return new RpcException(new Status(code, DetailPrefix + refusal.Reason), new Metadata { { TrailerName, refusal.ToByteArray() } });
    }

    /// <summary>The refusal a failed call carries, or null when the controller did not refuse it (or is older).</summary>
    public static Refusal? Read(RpcException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var bytes = e.Trailers.GetValueBytes(TrailerName);
        if (bytes is null)
        {
            return null;
        }

        try
        {
            return Refusal.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }
}
