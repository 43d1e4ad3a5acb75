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

    public async Task<(bool HasValue, object? Value)> RunAsync(string code, CancellationToken cancellationToken)
    {
        try
        {
            // The wait stops at Ctrl-C; code that does not look at the token goes on, and its state is then dropped.
            var next = state is null
                ? CSharpScript.RunAsync(code, Options, globals, typeof(ConsoleGlobals), cancellationToken)
                : state.ContinueWithAsync(code, Options, cancellationToken);
            state = await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CompilationErrorException e)
        {
            throw new CapClusterException(string.Join("; ", e.Diagnostics.Select(d => d.ToString())));
        }

        var hasValue = EndsWithValue(state.Script.GetCompilation());
        return (hasValue, hasValue ? state.ReturnValue : null);
    }

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
