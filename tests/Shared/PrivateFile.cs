namespace CapCluster.Tests.Shared;

/// <summary>Writes a file readable by its owner only, as capability files must be (CapabilityFile.Read refuses any other).</summary>
internal static class PrivateFile
{
    public static void Write(string path, string text)
    {
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}
