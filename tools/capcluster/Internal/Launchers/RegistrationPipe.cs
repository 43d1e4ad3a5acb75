using System.Globalization;
using System.IO.Pipes;
using System.Runtime.CompilerServices;
using System.Text;

namespace CapCluster.Launcher.Internal.Launchers;

/// <summary>
/// The pipe engines started on this machine report their registration on (<c>capengine --notify-fd</c>): each writes
/// its id on a line once the controller has confirmed it. <c>capcluster start</c> learns of every registration this
/// way, without a connection of its own to the controller, whose TLS and HTTP/2 start-up would take CPU from the
/// engines and the controller it waits for.
/// </summary>
internal sealed class RegistrationPipe : IDisposable
{
    private readonly AnonymousPipeServerStream pipe = new(PipeDirection.In, HandleInheritability.Inheritable);

    /// <summary>The arguments that hand an engine started now the pipe's write end.</summary>
    public IEnumerable<string> EngineArguments => ["--notify-fd", pipe.GetClientHandleAsString()];

    /// <summary>
    /// Once every engine is started: closes the launcher's own copy of the write end (no process started later
    /// inherits it), so that the pipe ends when each engine has written and closed it, or exited.
    /// </summary>
    public void Started() => pipe.DisposeLocalCopyOfClientHandle();

    /// <summary>The engines' ids, as they register; ends when no engine holds the pipe any more.</summary>
    public async IAsyncEnumerable<int> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(pipe, Encoding.ASCII, detectEncodingFromByteOrderMarks: false, bufferSize: 256, leaveOpen: true);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                yield return id;
            }
        }
    }

    public void Dispose() => pipe.Dispose();
}
