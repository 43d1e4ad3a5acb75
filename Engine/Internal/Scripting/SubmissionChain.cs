using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// A chain of script submissions compiled with
/// <see cref="CSharpCompilation.CreateScriptCompilation"/>, each chained to the previous one
/// and emitted into one collectible load context. This replaces ScriptState.ContinueWithAsync,
/// which loads every submission into the default context for good; a whole chain here can
/// be dropped and unloaded once its variables have moved to the next one (a rebase).
/// </summary>
internal sealed class SubmissionChain : IDisposable
{
    private static readonly CSharpParseOptions s_parseOptions =
        new(LanguageVersion.Latest, DocumentationMode.None, SourceCodeKind.Script);

    // A portable PDB next to each image gives runtime stack traces In[n]:line k.
    private static readonly EmitOptions s_emitOptions = new(debugInformationFormat: DebugInformationFormat.PortablePdb);

    private readonly SubmissionLoadContext _context;
    private readonly string[] _usings;
    private readonly bool _optimize;
    private readonly HashSet<Assembly> _referenced = [];

    // Made at the first compile or reference, not with the chain: an engine's namespace exists from its start, and
    // these (the compiler's types, the framework's assemblies read as references) were on the way to its registration.
    private CSharpCompilationOptions? _options;
    private List<MetadataReference>? _references;
    private CSharpCompilation? _previous;
    private object?[] _submissions = new object?[16];

    // Slot 0 of the submission array belongs to the host object (none here).
    private int _lastSlot;

    public SubmissionChain(int generation, IEnumerable<string> usings, bool optimize)
    {
        Generation = generation;
        _context = new SubmissionLoadContext($"capns-g{generation}");
        _usings = [.. usings];
        _optimize = optimize;
    }

    // Optimized code runs at full speed and still has line numbers from the PDB, but the
    // JIT may inline small user methods, whose frames then vanish from stack traces.
    private CSharpCompilationOptions Options => _options ??= new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            usings: _usings,
            optimizationLevel: _optimize ? OptimizationLevel.Release : OptimizationLevel.Debug,
            allowUnsafe: false)
        .WithConcurrentBuild(false);

    private List<MetadataReference> References => _references ??= [.. ScriptReferences.Defaults];

    public int Generation { get; }

    /// <summary>Submissions emitted into this chain.</summary>
    public int Emitted { get; private set; }

    /// <summary>Submissions that rebuilt carried state when this chain was created.</summary>
    public int BaseCount { get; set; }

    public (CompiledSubmission? Submission, IReadOnlyList<Diagnostic> Errors) Compile(
        string code, string path, CancellationToken ct)
    {
        var tree = CSharpSyntaxTree.ParseText(SourceText.From(code, Encoding.UTF8), s_parseOptions, path, ct);
        var assemblyName = $"capns-g{Generation}-s{Emitted + 1}";
        var compilation = CSharpCompilation.CreateScriptCompilation(
            assemblyName, tree, References, Options, _previous, typeof(object));

        var root = tree.GetCompilationUnitRoot(ct);
        if (root.Members.Count == 0)
        {
            // Only using directives (or nothing): Roslyn emits no script class for it, but
            // later submissions chained to it see its usings.
            var errors = Errors(compilation.GetDiagnostics(ct));
            if (errors.Count > 0)
                return (null, errors);
            _previous = compilation;
            return (new CompiledSubmission(this, path, _lastSlot, null, null, [], false, root.Usings.Count > 0 || root.Externs.Count > 0,
                code, []), []);
        }

        using var image = new MemoryStream();
        using var symbols = new MemoryStream();
        var emit = compilation.Emit(image, symbols, options: s_emitOptions, cancellationToken: ct);
        if (!emit.Success)
            return (null, Errors(emit.Diagnostics));
        image.Position = 0;
        symbols.Position = 0;
        var assembly = _context.LoadSubmission(assemblyName, image, symbols);
        _previous = compilation;
        Emitted++;

        var entryPoint = compilation.GetEntryPoint(ct);
        Func<object?[], Task<object?>>? factory = null;
        Type? type = null;
        var slot = _lastSlot;
        if (entryPoint is not null)
        {
            slot = ++_lastSlot;
            type = assembly.GetType(entryPoint.ContainingType.MetadataName, throwOnError: true)!;
            factory = type.GetMethod(entryPoint.MetadataName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!
                .CreateDelegate<Func<object?[], Task<object?>>>();
        }
        var fields = type is null
            ? []
            : type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => !f.Name.StartsWith('<')).ToArray();
        var declaresMembers = DeclaresMembers(root);
        return (new CompiledSubmission(this, path, slot, factory, type, fields,
            HasResult(compilation, root), declaresMembers,
            declaresMembers ? ReplaySource(code, root) : null,
            declaresMembers ? [] : Names(root, fields)), []);
    }

    private static List<Diagnostic> Errors(IEnumerable<Diagnostic> diagnostics) =>
        [.. diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).OrderBy(d => d.Location.SourceSpan.Start)];

    /// <summary>Runs a submission of this chain; its instance lands in its slot.</summary>
    public Task<object?> Run(CompiledSubmission submission)
    {
        if (submission.Chain != this || submission.Factory is null)
            throw new InvalidOperationException("The submission does not belong to this chain or has nothing to run.");
        if (submission.Slot >= _submissions.Length)
            Array.Resize(ref _submissions, Math.Max(_submissions.Length * 2, submission.Slot + 1));
        return submission.Factory(_submissions);
    }

    public object? InstanceAt(int slot) => slot < _submissions.Length ? _submissions[slot] : null;

    public object? Read(VariableBinding binding) => binding.Field.GetValue(_submissions[binding.Slot]);

    public void Write(VariableBinding binding, object? value) => binding.Field.SetValue(_submissions[binding.Slot], value);

    /// <summary>Lets later submissions name the types of a value of an assembly this chain does not reference yet.</summary>
    public void Reference(Type type)
    {
        if (type.HasElementType)
        {
            Reference(type.GetElementType()!);
            return;
        }
        foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : [])
            Reference(argument);
        if (_referenced.Add(type.Assembly) && ScriptReferences.ForAssembly(type.Assembly) is { } reference
            && !ScriptReferences.Defaults.Any(d => string.Equals(d.Display, reference.Display, StringComparison.Ordinal)))
            References.Add(reference);
    }

    /// <summary>True for a type declared by a submission of this chain.</summary>
    public bool Declared(Type type) => AssemblyLoadContext.GetLoadContext(type.Assembly) == _context;

    public void Dispose()
    {
        _previous = null;
        _submissions = [];
        _context.Release();
    }

    private static string[] Names(CompilationUnitSyntax root, IEnumerable<FieldInfo> fields) =>
    [
        .. root.DescendantNodes().OfType<IdentifierNameSyntax>().Select(i => i.Identifier.ValueText)
            .Concat(fields.Select(f => f.Name)).Distinct(StringComparer.Ordinal),
    ];

    /// <summary>Like a REPL: a trailing expression without semicolon, of a non-void type, is the result.</summary>
    private static bool HasResult(CSharpCompilation compilation, CompilationUnitSyntax root)
    {
        if (root.Members.LastOrDefault() is not GlobalStatementSyntax { Statement: ExpressionStatementSyntax statement }
            || !statement.SemicolonToken.IsMissing)
            return false;
        var type = compilation.GetSemanticModel(root.SyntaxTree).GetTypeInfo(statement.Expression).Type;
        return type is not null && type.SpecialType != SpecialType.System_Void;
    }

    /// <summary>Anything beyond statements and instance variables changes what later code binds to.</summary>
    private static bool DeclaresMembers(CompilationUnitSyntax root) =>
        root.Usings.Count > 0 || root.Externs.Count > 0 || root.Members.Any(m => !IsStatementOrVariable(m));

    private static bool IsStatementOrVariable(MemberDeclarationSyntax member) => member switch
    {
        GlobalStatementSyntax => true,
        FieldDeclarationSyntax f => !f.Modifiers.Any(m => m.IsKind(SyntaxKind.ConstKeyword) || m.IsKind(SyntaxKind.StaticKeyword)),
        _ => false,
    };

    /// <summary>
    /// The submission with its statements and variable declarations blanked out, so only its
    /// declarations (types, methods, usings) remain, at their original lines and columns.
    /// </summary>
    private static string ReplaySource(string code, CompilationUnitSyntax root)
    {
        var chars = code.ToCharArray();
        foreach (var member in root.Members.Where(IsStatementOrVariable))
        {
            for (var i = member.FullSpan.Start; i < member.FullSpan.End; i++)
            {
                if (chars[i] is not ('\n' or '\r'))
                    chars[i] = ' ';
            }
        }
        return new string(chars);
    }
}
