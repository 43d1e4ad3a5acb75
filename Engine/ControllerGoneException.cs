using CapCluster.Security;

namespace CapCluster.Engine;

/// <summary>
/// The engine could not reach its controller for <see cref="EngineOptions.ControllerTimeout"/> and gave up:
/// the controller is gone (killed and not restarted, or moved), so the engine stops rather than retry for ever.
/// </summary>
public sealed class ControllerGoneException(string message, Exception? inner = null) : CapClusterException(message, inner)
{
    /// <summary>The exit code of a <c>capengine</c> that gave up on its controller: 4 (2 is another error, 3 a refused capability).</summary>
    public const int ExitCode = 4;
}
