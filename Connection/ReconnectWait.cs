namespace CapCluster.Connection;

/// <summary>A call waiting for a controller that is out of reach, as <see cref="ReconnectOptions.Waiting"/> is told of it.</summary>
/// <param name="Controller">The controller's addresses as the capability names them (<c>host:port</c>, several separated by ", ").</param>
/// <param name="CapabilityPath">The capability file that names the controller.</param>
/// <param name="Timeout">How long the call keeps trying from its first failure (<see cref="ReconnectOptions.Timeout"/>).</param>
public sealed record ReconnectWait(string Controller, string CapabilityPath, TimeSpan Timeout);
