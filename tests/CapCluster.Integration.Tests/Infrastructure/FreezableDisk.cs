namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>
/// A small ext4 disk (a loop-mounted image file) on a folder (root only) that a test can freeze: every write to it then
/// waits, in the kernel, until it is thawed (tmpfs cannot be frozen). Disposing thaws and unmounts it.
/// </summary>
internal sealed class FreezableDisk : IAsyncDisposable
{
    private FreezableDisk(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    /// <summary>Makes a disk of <paramref name="megabytes"/> MiB in an image beside <paramref name="folder"/> and mounts it there.</summary>
    public static async Task<FreezableDisk> MountAsync(string folder, int megabytes)
    {
        Directory.CreateDirectory(folder);
        var image = folder + ".img";
        using (var file = File.Create(image))
        {
            file.SetLength(megabytes * 1024L * 1024L);
        }

        await RunAsync(true, "mkfs.ext4", "-q", "-F", image);
        await RunAsync(true, "mount", "-o", "loop", image, folder);
        return new FreezableDisk(folder);
    }

    /// <summary>From now on, writes to the disk wait until <see cref="ThawAsync"/>.</summary>
    public Task FreezeAsync() => RunAsync(true, "fsfreeze", "-f", Folder);

    public Task ThawAsync() => RunAsync(true, "fsfreeze", "-u", Folder);

    public async ValueTask DisposeAsync()
    {
        await RunAsync(false, "fsfreeze", "-u", Folder); // it may not be frozen
        await RunAsync(false, "umount", "-l", Folder);
    }

    private static async Task RunAsync(bool mustSucceed, string program, params string[] arguments)
    {
        var result = await HostCommand.RunAsync(program, arguments);
        Assert.True(!mustSucceed || result.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed: {result}");
    }
}
