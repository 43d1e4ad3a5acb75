namespace CapCluster.Security;

/// <summary>Why <see cref="CapabilityRegistry.Check"/> refused a call, in the order it checks.</summary>
public enum CapabilityRefusal
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary>No capability with that id is registered.</summary>
    Unknown,

    /// <summary>The presented secret does not match (or none was presented).</summary>
    SecretMismatch,

    /// <summary>The capability (or one it was derived from) was revoked.</summary>
    Revoked,

    /// <summary>The capability's expiry has passed.</summary>
    Expired,

    /// <summary>The capability is for another interface.</summary>
    WrongInterface,

    /// <summary>The capability has a method list that does not include the method.</summary>
    MethodNotAllowed,
}
