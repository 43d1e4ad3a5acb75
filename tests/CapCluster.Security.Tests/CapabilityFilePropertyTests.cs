using FsCheck;
using FsCheck.Xunit;

namespace CapCluster.Security.Tests;

/// <summary>
/// Properties of <see cref="CapabilityFile.Parse"/> over generated input: whatever the text, the parser either
/// returns a file or throws <see cref="CapabilityFileException"/> (the one-line error tools print), and no edit of a
/// genuine file yields a file with other certificates, another key or another CA fingerprint.
/// </summary>
public sealed class CapabilityFilePropertyTests
{
    private static readonly Lazy<(string Text, CapabilityFile File)> Genuine = new(() =>
    {
        var ca = CertificateAuthority.CreateEphemeral();
        var holder = ca.IssueHolderCertificate("cap_property", CapabilityInterfaces.Task, null);
        var url = new CapabilityUrl(ca.Fingerprint, [new("controller.example", 5000)], CapabilityInterfaces.Task, CapabilitySecret.Create());
        var file = new CapabilityFile(url, holder, ca.Certificate);
        return (file.ToText("property tests"), file);
    });

    private static CapabilityFile? ParseOrRefuse(string text)
    {
        try
        {
            return CapabilityFile.Parse(text, "generated.cap");
        }
        catch (CapabilityFileException e)
        {
            Assert.Contains("generated.cap", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message.TrimEnd());
            return null;
        }
    }

    private static bool SameMaterialAsGenuine(CapabilityFile parsed)
    {
        var genuine = Genuine.Value.File;
        return parsed.HolderCertificate.RawData.AsSpan().SequenceEqual(genuine.HolderCertificate.RawData)
            && parsed.CaCertificate.RawData.AsSpan().SequenceEqual(genuine.CaCertificate.RawData)
            && parsed.Url.CaFingerprint == genuine.Url.CaFingerprint
            && parsed.Url.Interface == genuine.Url.Interface
            && parsed.CapabilityId == genuine.CapabilityId;
    }

    [Property(MaxTest = 300)]
    public void AnyText_ParsesOrIsRefusedWithAOneLineError(NonNull<string> text)
    {
        var parsed = ParseOrRefuse(text.Get);
        Assert.Null(parsed); // random text never carries a key matching a certificate signed by the CA it names
    }

    [Property(MaxTest = 300)]
    public bool GenuineFile_WithOneCharacterChanged_IsRefusedOrKeepsItsCertificatesAndCa(PositiveInt where, char replacement)
    {
        var text = Genuine.Value.Text;
        var at = where.Get % text.Length;
        var edited = string.Concat(text.AsSpan(0, at), replacement.ToString(), text.AsSpan(at + 1));
        var parsed = ParseOrRefuse(edited);
        return parsed is null || SameMaterialAsGenuine(parsed);
    }

    [Property(MaxTest = 200)]
    public bool GenuineFile_CutAnywhere_IsRefusedOrKeepsItsCertificatesAndCa(PositiveInt where)
    {
        var text = Genuine.Value.Text;
        var parsed = ParseOrRefuse(text[..(where.Get % text.Length)]);
        return parsed is null || SameMaterialAsGenuine(parsed);
    }

    [Property(MaxTest = 200)]
    public void GenuineFile_WithGarbageInserted_ParsesOrIsRefusedWithAOneLineError(PositiveInt where, NonNull<string> garbage)
    {
        var text = Genuine.Value.Text;
        var at = where.Get % text.Length;
        var parsed = ParseOrRefuse(text.Insert(at, garbage.Get));
        Assert.True(parsed is null || SameMaterialAsGenuine(parsed), "inserted text produced a file with other certificates or another CA");
    }

    [Property(MaxTest = 100)]
    public bool GenuineFile_WithAnotherValidFingerprint_IsRefused(PositiveInt where, PositiveInt letter)
    {
        // Each edit names a well-formed fingerprint of a CA that is not the one in the file.
        const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";
        var text = Genuine.Value.Text;
        var fingerprint = Genuine.Value.File.Url.CaFingerprint;
        var at = where.Get % fingerprint.Length;
        var other = Base32.Replace(fingerprint[at].ToString(), "", StringComparison.OrdinalIgnoreCase);
        var replacement = other[letter.Get % other.Length];
        if (char.IsUpper(fingerprint[at]))
            replacement = char.ToUpperInvariant(replacement);
        var forged = string.Concat(fingerprint.AsSpan(0, at), replacement.ToString(), fingerprint.AsSpan(at + 1));
        return ParseOrRefuse(text.Replace(fingerprint, forged, StringComparison.Ordinal)) is null;
    }

    [Fact]
    public void GenuineFile_Parses()
    {
        Assert.True(SameMaterialAsGenuine(CapabilityFile.Parse(Genuine.Value.Text, "genuine.cap")));
    }
}
