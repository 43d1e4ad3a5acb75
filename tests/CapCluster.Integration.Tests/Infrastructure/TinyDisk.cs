using System.Diagnostics;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>A small tmpfs mounted on a folder (root only), that a test fills to the last byte and frees again.</summary>
internal sealed class TinyDisk : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private TinyDisk(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    private string Filler => Path.Combine(Folder, "filler");

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's notation, e.g. 2m) with mode 0700 on <paramref name="folder"/>.</summary>
    public static async Task<TinyDisk> MountAsync(string folder, string size)
    {
        Directory.CreateDirectory(folder);
        var mount = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", folder);
        Assert.True(mount.ExitCode == 0, "mounting a tmpfs failed: " + mount);
        return new TinyDisk(folder);
    }

    /// <summary>Takes every free byte with a filler file.</summary>
    public void Fill()
    {
        using var stream = new FileStream(Filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[64 * 1024];
        try
        {
            while (true)
            {
                stream.Write(block);
                stream.Flush();
            }
        }
        catch (IOException)
        {
            // Full. Also the last bytes: a record is shorter than a block.
        }

        try
        {
            while (true)
            {
                stream.Write(block.AsSpan(0, 16));
                stream.Flush();
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Gives the space back.</summary>
    public void Free() => File.Delete(Filler);

    /// <summary>Remounts the disk read-only (root is refused writes there too, unlike on a folder of mode 0500).</summary>
    public async Task MakeReadOnlyAsync()
    {
        var remount = await RunAsync("mount", "-o", "remount,ro", Folder);
        Assert.True(remount.ExitCode == 0, "remounting read-only failed: " + remount);
    }

    public async ValueTask DisposeAsync() => await RunAsync("umount", "-l", Folder);

    private static async Task<ProcessResult> RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Timeout);
        return new ProcessResult(process.ExitCode, await output, await error);
    }
}
