using Microsoft.CodeAnalysis.CSharp;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>Push, pull, delete and list variables between executes.</summary>
internal sealed partial class EngineNamespace
{
    /// <summary>User variables currently defined, declared by code or pushed, sorted ordinally.</summary>
    public IReadOnlyList<string> Keys
    {
        get
        {
            Enter();
            try
            {
                return [.. _bindings.Keys.Order(StringComparer.Ordinal)];
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Pushes a value: afterwards code sees a variable <paramref name="name"/> typed as
    /// the value's runtime type (object for null, or the nearest public type C# can name),
    /// replacing any variable of that name.</summary>
    public void Set(string name, object? value)
    {
        ValidateName(name);
        Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var runtimeType = value?.GetType() ?? typeof(object);
            var candidates = TypeCandidates(null, runtimeType);
            // Same name, same type: assign in place, no compile.
            if (_bindings.TryGetValue(name, out var binding) && binding.Field.FieldType == candidates[0].Type)
            {
                _chain.Write(binding, value);
                return;
            }
            RebaseIfDue();
            Declare([(name, candidates, value)]);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Pulls the current value of a variable declared by code or pushed.</summary>
    public bool TryGet(string name, out object? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_bindings.TryGetValue(name, out var binding))
            {
                value = _chain.Read(binding);
                return true;
            }
            value = null;
            return false;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes a variable. A script chain cannot forget a name, so this rebases
    /// without it (a few milliseconds).</summary>
    public bool Delete(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_bindings.Remove(name))
                return false;
            Rebase();
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!SyntaxFacts.IsValidIdentifier(name) || SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || name == "await")
            throw new ArgumentException($"'{name}' is not a valid C# identifier for a variable.", nameof(name));
    }

    /// <summary>
    /// Declares variables in one submission and stores their values. Each variable comes with
    /// the types to try, best first; one that does not compile or binds to another type (a
    /// shadowed type name) falls back to the next, down to object, which always works.
    /// </summary>
    private void Declare(IReadOnlyList<(string Name, IReadOnlyList<(Type Type, string Expression)> Candidates, object? Value)> variables)
    {
        var pending = variables.Select(v => (v.Name, v.Candidates, v.Value, Next: 0)).ToList();
        while (pending.Count > 0)
        {
            var source = string.Join('\n', pending.Select(p => $"{p.Candidates[p.Next].Expression} {p.Name} = default;"));
            var (submission, errors) = _chain.Compile(source, "push", CancellationToken.None);
            Interlocked.Increment(ref _submissionCount);
            if (submission is null)
            {
                // Retry one by one so one unnameable type does not cost the others their types.
                if (pending.Count > 1)
                {
                    foreach (var p in pending)
                        Declare([(p.Name, p.Candidates.Skip(p.Next).ToList(), p.Value)]);
                    return;
                }
                var only = pending[0];
                if (only.Next + 1 >= only.Candidates.Count)
                    throw new InvalidOperationException($"Cannot declare variable '{only.Name}': {errors[0]}");
                pending[0] = only with { Next = only.Next + 1 };
                continue;
            }
            _chain.Run(submission).GetAwaiter().GetResult();
            Adopt(source, submission);
            var retry = new List<(string, IReadOnlyList<(Type, string)>, object?, int)>();
            foreach (var p in pending)
            {
                var binding = _bindings[p.Name];
                if (binding.Field.FieldType == p.Candidates[p.Next].Type)
                    _chain.Write(binding, p.Value);
                else
                    retry.Add((p.Name, p.Candidates, p.Value, p.Next + 1));
            }
            pending = retry;
        }
    }

    /// <summary>Types a variable can be declared with, best first, ending with object:
    /// its declared type, its runtime type, the nearest public base or IEnumerable&lt;T&gt;.</summary>
    private List<(Type Type, string Expression)> TypeCandidates(Type? declared, Type runtime)
    {
        var candidates = new List<(Type, string)>();
        void Add(Type? type)
        {
            if (type is null || type == typeof(object) || candidates.Any(c => c.Item1 == type))
                return;
            if (CSharpTypeNames.TryName(type, t => _chain.Declared(t) ? CSharpTypeNames.SubmissionRelativeName(t) : null) is { } name)
            {
                _chain.Reference(type);
                candidates.Add((type, name));
            }
        }
        Add(declared);
        Add(runtime);
        if (candidates.Count == 0)
        {
            for (var b = runtime.BaseType; b is not null && candidates.Count == 0; b = b.BaseType)
                Add(b);
            var sequences = runtime.GetInterfaces()
                .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)).ToList();
            if (candidates.Count == 0 && sequences.Count == 1)
                Add(sequences[0]);
        }
        candidates.Add((typeof(object), "object"));
        return candidates;
    }
}
