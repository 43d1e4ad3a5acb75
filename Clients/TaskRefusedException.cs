using CapCluster.Security;

namespace CapCluster.Client;

/// <summary>The controller refused a submission (unknown dependency, cycle, quota used up).</summary>
public sealed class TaskRefusedException(string message) : CapClusterException(message);
