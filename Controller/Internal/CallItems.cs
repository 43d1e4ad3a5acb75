namespace CapCluster.Controller.Internal;

/// <summary>Keys of what the gate leaves in a call's items for the handlers.</summary>
internal static class CallItems
{
    public static readonly object Capability = new();
}
