using System.Reflection;
using CapCluster.Client;
using CapCluster.Security;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;

namespace CapCluster.Interactive.Internal;

/// <summary>
/// Lets a lambda typed in a cell ship as a delegate task. The C# kernel compiles each cell in memory and runs it at
/// once, out of the extension's reach, so a cell's image comes from compiling it again: a finished cell's own
/// compilation, which the kernel's script state keeps, or, for the cell that is running, its code compiled after the
/// cells before it under the running cell's names. The client ships an image only if it is the loaded assembly, same
/// metadata and same IL (ImageMatch), so a compilation that came out otherwise is refused, never run.
/// </summary>
internal sealed class CellImages : IDisposable
{
    private readonly CSharpKernel kernel;
    private readonly IDisposable registration;
    private volatile string? running;

    public CellImages(CSharpKernel kernel)
    {
        this.kernel = kernel;
        registration = InMemoryAssemblies.RegisterResolver(Resolve);
    }

    /// <summary>A middleware of the C# kernel: notes the code of the cell it is about to run.</summary>
    public async Task InterceptAsync(KernelCommand command, KernelInvocationContext context, KernelPipelineContinuation next)
    {
        if (command is not SubmitCode submit)
        {
            await next(command, context).ConfigureAwait(false);
            return;
        }

        running = submit.Code;
        try
        {
            await next(command, context).ConfigureAwait(false);
        }
        finally
        {
            running = null;
        }
    }

    public void Dispose() => registration.Dispose();

    private byte[]? Resolve(Assembly assembly)
    {
        var name = assembly.GetName().Name;
        if (kernel.ScriptState?.Script is not { } last)
            return null;

        for (var script = last; script is not null; script = script.Previous)
        {
            var compilation = script.GetCompilation();
            if (compilation.AssemblyName == name)
                return Emit(compilation, script.Options.EmitDebugInformation);
        }

        // The running cell follows the last finished one, and its assembly's name has the same prefix: "ℛ*{id}#{n}-".
        return running is { } code && SameKernel(name, last) && SubmissionClassOf(assembly) is { } submissionClass
            ? Emit(CompileAgain(last, code, name!, submissionClass), last.Options.EmitDebugInformation)
            : null;
    }

    private static bool SameKernel(string? name, Script last)
    {
        var lastName = last.GetCompilation().AssemblyName!;
        var prefix = lastName[..(lastName.LastIndexOf('-') + 1)];
        return prefix.Length > 0 && name is not null && name.StartsWith(prefix, StringComparison.Ordinal);
    }

    private static string? SubmissionClassOf(Assembly assembly) =>
        assembly.GetTypes().FirstOrDefault(t => t.DeclaringType is null && t.Name.StartsWith("Submission#", StringComparison.Ordinal))?.Name;

    private static Compilation CompileAgain(Script last, string code, string assemblyName, string submissionClass)
    {
        var compilation = (CSharpCompilation)last.ContinueWith(code, last.Options).GetCompilation();
        return compilation.WithAssemblyName(assemblyName).WithOptions(compilation.Options.WithScriptClassName(submissionClass));
    }

    /// <summary>As scripting emitted it: with debug information when it had it, since the metadata differs without.</summary>
    private static byte[] Emit(Compilation compilation, bool withDebugInformation)
    {
        using var image = new MemoryStream();
        using var symbols = withDebugInformation ? new MemoryStream() : null;
        var emitted = compilation.Emit(image, symbols);
        return emitted.Success
            ? image.ToArray()
            : throw new CapClusterException($"the cell could not be compiled again to ship its lambda: {string.Join("; ", emitted.Diagnostics)}");
    }
}
