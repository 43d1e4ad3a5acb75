using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Extensions.Logging;
using Serilog.Formatting.Compact;

namespace CapCluster.Hosting;

/// <summary>
/// The executables' Serilog set-up: one file per process in the log folder,
/// <c>&lt;component&gt;-&lt;pid&gt;.log</c>, in compact JSON lines (the default) or text. Libraries only see
/// <see cref="ILoggerFactory"/>.
/// </summary>
public static class ComponentLogging
{
    /// <summary>The text format's line, as logs were written before JSON became the default.</summary>
    public const string TextTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    /// <summary>The log file of one process: <c>&lt;component&gt;-&lt;pid&gt;.log</c> in the log folder.</summary>
    public static string FileFor(string logFolder, string component, int processId) =>
        Path.Combine(logFolder, $"{component}-{processId}.log");

    /// <summary>
    /// The logger factory of this process: <see cref="FileFor"/> of <paramref name="component"/> and this pid, in
    /// <paramref name="format"/> (JSON by default), every event carrying <c>Component</c> and <c>Pid</c>; information level
    /// and up (Microsoft's and gRPC's own categories from warning), flushed to disk every second.
    /// </summary>
    /// <exception cref="IOException">The log file cannot be written (Serilog would otherwise drop every line in silence).</exception>
    public static ILoggerFactory Create(string component, string logFolder, LogFormat format = LogFormat.Json)
    {
        var file = FileFor(logFolder, component, Environment.ProcessId);
        using (new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
        }

        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            // grpc-dotnet says at information level that a peer went away mid-call, with the stack of the read it broke.
            .MinimumLevel.Override("Grpc", Serilog.Events.LogEventLevel.Warning)
            .Enrich.WithProperty("Component", component)
            .Enrich.WithProperty("Pid", Environment.ProcessId);
        var flush = TimeSpan.FromSeconds(1);
        var logger = (format == LogFormat.Json
                ? configuration.WriteTo.File(new CompactJsonFormatter(), file, flushToDiskInterval: flush)
                : configuration.WriteTo.File(file, outputTemplate: TextTemplate, flushToDiskInterval: flush))
            .CreateLogger();
        return new SerilogLoggerFactory(logger, dispose: true);
    }

    /// <summary>
    /// The process's own signal handling: SIGTERM and SIGINT cancel <paramref name="shutdown"/> (a graceful stop
    /// instead of the runtime's immediate exit); SIGHUP is ignored, so detached processes outlive their terminal.
    /// </summary>
    public static IDisposable HandleSignals(CancellationTokenSource shutdown)
    {
        var registrations = new List<PosixSignalRegistration>
        {
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => context.Cancel = true),
        };
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
        {
            registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                shutdown.Cancel();
            }));
        }

        return new Registrations(registrations);
    }

    private sealed class Registrations(List<PosixSignalRegistration> registrations) : IDisposable
    {
        public void Dispose() => registrations.ForEach(r => r.Dispose());
    }
}
