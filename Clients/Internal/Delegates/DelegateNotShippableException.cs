namespace CapCluster.Client.Internal.Delegates;

/// <summary>A delegate that cannot run on an engine; the message names its method and the reason.</summary>
internal sealed class DelegateNotShippableException(string message) : InvalidOperationException(message);
