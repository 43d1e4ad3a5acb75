using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>
/// A delegate that cannot be shipped to engines (an instance method on an object, a multicast or dynamic
/// delegate, a generic method); the message names the method and what to do instead.
/// </summary>
public sealed class DelegateNotShippableException(string message) : CapClusterException(message);
