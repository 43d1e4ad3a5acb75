using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>Moving the namespace into a fresh chain, so old submissions can unload.</summary>
internal sealed partial class EngineNamespace
{
    /// <summary>Forgets all variables, types, methods and usings added by code or pushes.
    /// The execution count keeps rising, as IPython's does after %reset.</summary>
    public void Reset()
    {
        Enter();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _bindings.Clear();
            _declarations.Clear();
            _notes.Clear();
            Replace(new SubmissionChain(_chain.Generation + 1, _options.Usings, _options.Optimize));
        }
        finally
        {
            _gate.Release();
        }
    }

    private void RebaseIfDue()
    {
        if (_chain.Emitted - _chain.BaseCount >= _options.RebaseEvery)
            Rebase();
    }

    /// <summary>
    /// Declares the current variables in a new chain, first (replayed methods may use them),
    /// then replays the recorded declarations in their original order, then drops the old
    /// chain. A declaration that no longer compiles is dropped with a note to the user.
    /// </summary>
    private void Rebase()
    {
        var carried = _bindings
            .Select(b => (Name: b.Key, b.Value.Field, Value: _chain.Read(b.Value)))
            .ToList();
        var old = _chain;
        _bindings.Clear();
        Replace(new SubmissionChain(old.Generation + 1, _options.Usings, _options.Optimize), dispose: false);

        if (carried.Count > 0)
        {
            Declare([.. carried.Select(c => (c.Name, (IReadOnlyList<(Type, string)>)CarriedCandidates(c.Field, c.Value), c.Value))]);
        }
        foreach (var (path, source) in _declarations.ToList())
        {
            var (submission, errors) = _chain.Compile(source, path, CancellationToken.None);
            Interlocked.Increment(ref _submissionCount);
            if (submission is null)
            {
                _declarations.Remove((path, source));
                _notes.Add($"note: the declarations of {path} no longer compile and were dropped: {ExecutionFailures.Compilation(errors).Message}");
                continue;
            }
            if (submission.Factory is not null)
                _chain.Run(submission).GetAwaiter().GetResult();
            if (submission.DeclaresMembers)
                _declarationVersion++;
        }
        _chain.BaseCount = _chain.Emitted;
        old.Dispose();

        // The native memory of the submissions unloaded since the last rebase is free by now, but still in the C heap.
        NativeHeap.TrimSoon();
    }

    /// <summary>A variable keeps its declared type where the new chain can name it. A value of
    /// a type declared by an earlier chain cannot be typed in the new one (its replayed type is
    /// a different type), so it is carried as dynamic: its members keep working.</summary>
    private List<(Type Type, string Expression)> CarriedCandidates(FieldInfo field, object? value)
    {
        if (field.FieldType == typeof(object))
        {
            return field.IsDefined(typeof(DynamicAttribute), inherit: false)
                ? [Dynamic(), (typeof(object), "object")]
                : [(typeof(object), "object")];
        }
        var candidates = TypeCandidates(field.FieldType, value?.GetType() ?? field.FieldType);
        if (value is not null && IsSubmissionType(value.GetType()) && candidates.Count == 1)
            candidates.Insert(0, Dynamic());
        return candidates;
    }

    private static (Type, string) Dynamic() => (typeof(object), "dynamic");

    private static bool IsSubmissionType(Type type) =>
        AssemblyLoadContext.GetLoadContext(type.Assembly) is SubmissionLoadContext
        || (type.IsGenericType && type.GetGenericArguments().Any(IsSubmissionType))
        || (type.HasElementType && IsSubmissionType(type.GetElementType()!));

    private void Replace(SubmissionChain chain, bool dispose = true)
    {
        var old = _chain;
        _chain = chain;
        _cache.Clear();
        _declarationVersion++;
        if (dispose)
            old.Dispose();
    }
}
