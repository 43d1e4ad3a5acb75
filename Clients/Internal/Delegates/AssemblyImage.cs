namespace CapCluster.Client.Internal.Delegates;

/// <summary>The bytes of one assembly file, named by the lowercase hex SHA-256 of those bytes.</summary>
internal sealed record AssemblyImage(string Hash, string Name, ReadOnlyMemory<byte> Bytes);
