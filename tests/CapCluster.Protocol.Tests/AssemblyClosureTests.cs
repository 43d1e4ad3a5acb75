namespace CapCluster.Protocol.Tests;

/// <summary>A closure id hashes its image hashes in order, whatever their case; anything but 64 hex digits is refused.</summary>
public sealed class AssemblyClosureTests
{
    private static readonly string A = new('a', 64);
    private static readonly string B = "0123456789abcdef".PadRight(64, 'f');

    [Fact]
    public void Id_IsTheSha256OfTheHashesEachOnALine()
    {
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(A + "\n" + B + "\n")));

        Assert.Equal(expected, AssemblyClosure.Id([A, B]));
        Assert.Equal(expected, AssemblyClosure.Id([A.ToUpperInvariant(), B.ToUpperInvariant()]));
    }

    [Fact]
    public void Id_DependsOnTheOrder_TheDeclaringAssemblyIsFirst()
    {
        Assert.NotEqual(AssemblyClosure.Id([A, B]), AssemblyClosure.Id([B, A]));
        Assert.NotEqual(AssemblyClosure.Id([A]), AssemblyClosure.Id([A, A]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")]
    public void Id_OfSomethingThatIsNotAHash_IsRefused(string hash)
    {
        Assert.False(AssemblyClosure.IsHash(hash));
        var refused = Assert.Throws<ArgumentException>(() => AssemblyClosure.Id([A, hash]));
        Assert.Contains("is not a SHA-256 image hash", refused.Message, StringComparison.Ordinal);
    }
}
