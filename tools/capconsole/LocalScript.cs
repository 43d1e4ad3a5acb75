using CapCluster.Client;
using CapCluster.Security;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;

namespace CapCluster.Repl;

/// <summary>C# typed into the console, run here with Roslyn scripting; variables carry from one input to the next.</summary>
internal sealed class LocalScript(ConsoleGlobals globals) : ILocalCode
{
    private static readonly ScriptOptions Options = ScriptOptions.Default
        .WithReferences(typeof(MultiEngineClient).Assembly, typeof(CapClusterException).Assembly, typeof(Enumerable).Assembly)
        .WithImports("System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Threading", "System.Threading.Tasks", "CapCluster.Client")
        .WithEmitDebugInformation(true);

    private ScriptState<object>? state;

    // Inputs refer to all of the console's own folder (Roslyn among it); a lambda typed here ships without it.
    static LocalScript() => InMemoryAssemblies.RegisterHostFolder(AppContext.BaseDirectory);

    public async Task<(bool HasValue, object? Value)> RunAsync(string code, CancellationToken cancellationToken)
    {
        try
        {
            var script = state is null
                ? CSharpScript.Create(code, Options, typeof(ConsoleGlobals))
                : state.Script.ContinueWith(code, Options);
            ShipWithDelegates(script.GetCompilation());

            // The wait stops at Ctrl-C; code that does not look at the token goes on, and its state is then dropped.
            var next = state is null
                ? script.RunAsync(globals, cancellationToken: cancellationToken)
                : script.RunFromAsync(state, cancellationToken: cancellationToken);
            state = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CompilationErrorException e)
        {
            throw new CapClusterException(string.Join("; ", e.Diagnostics.Select(d => d.ToString())));
        }

        var hasValue = EndsWithValue(state.Script.GetCompilation());
        return (hasValue, hasValue ? state.ReturnValue : null);
    }

    /// <summary>
    /// Lets a lambda typed here ship as a delegate task: the input is compiled in memory, so the client gets its image
    /// from a second emit of the same compilation (the same types and tokens), made only when a delegate of it ships.
    /// It is emitted as scripting emitted it, with debug information: its metadata differs without.
    /// </summary>
    private static void ShipWithDelegates(Compilation compilation) =>
        InMemoryAssemblies.Register(compilation.AssemblyName!, () =>
        {
            using var image = new MemoryStream();
            using var symbols = new MemoryStream();
            var emitted = compilation.Emit(image, symbols);
            return emitted.Success
                ? image.ToArray()
                : throw new CapClusterException($"the input could not be compiled again to ship it: {string.Join("; ", emitted.Diagnostics)}");
        });

    // As in a REPL: a last expression without a semicolon, of a type other than void, is the value.
    private static bool EndsWithValue(Compilation compilation)
    {
        var tree = compilation.SyntaxTrees.Single();
        if (tree.GetCompilationUnitRoot().Members.LastOrDefault() is not GlobalStatementSyntax { Statement: ExpressionStatementSyntax statement }
            || !statement.SemicolonToken.IsMissing)
        {
            return false;
        }

        var type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        return type is not null && type.SpecialType != SpecialType.System_Void;
    }
}
