namespace CapCluster.Engine.Internal.Scripting;

/// <summary>
/// The engine's persistent C# namespace: executes submissions one at a time, REPL-style,
/// with variables, types, methods and usings carried from one execute to the next, and
/// values pushed and pulled by name between executes.
/// </summary>
/// <remarks>
/// Submissions are compiled as a script chain (<see cref="SubmissionChain"/>) in a collectible
/// load context. Every <see cref="NamespaceOptions.RebaseEvery"/> submissions the namespace
/// rebases: it declares the current variables afresh in a new chain (typed by their declared
/// or runtime types) and replays the declarations (types, methods, usings) of earlier
/// submissions from their source, then drops the old chain so it can unload. Replaying source
/// was chosen over keeping type-declaring contexts alive because a chain's context unloads
/// all or nothing: one kept submission would keep every submission of its chain. The cost:
/// a replayed type is a new type, so a value created before the rebase keeps the old type;
/// a variable holding one is carried as <c>dynamic</c> (members still work, conversions to
/// the new type do not).
/// <para>Execution counts keep rising across <see cref="Reset"/>, as in IPython.</para>
/// </remarks>
internal sealed partial class EngineNamespace : IDisposable
{
    private const int HistoryLimit = 1000;
    private const int CacheLimit = 1000;

    private readonly NamespaceOptions _options;

    // One execute, push, pull or reset at a time; user code is not thread-safe against them.
    private readonly SemaphoreSlim _gate = new(1, 1);

    // The warm-up in progress, if any: whoever enters next cancels it (see WarmUpAsync).
    private CancellationTokenSource? _warmUp;
    private readonly Dictionary<string, VariableBinding> _bindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CachedSubmission> _cache = new(StringComparer.Ordinal);
    private readonly List<(string Path, string Source)> _declarations = [];
    private readonly List<string> _notes = [];
    private readonly Lock _historyLock = new();
    private readonly Dictionary<int, ExecutionOutcome> _history = [];
    private SubmissionChain _chain;

    // Bumped whenever a type, method, property or using is declared (or the chain replaced):
    // cached submissions are only reused while it is unchanged since they were compiled.
    private long _declarationVersion;
    private int _executionCount;
    private long _submissionCount;
    private bool _disposed;

    public EngineNamespace(NamespaceOptions? options = null)
    {
        _options = options ?? new NamespaceOptions();
        if (_options.RebaseEvery < 1)
            throw new ArgumentOutOfRangeException(nameof(options), _options.RebaseEvery, "RebaseEvery must be at least 1.");
        _chain = new SubmissionChain(0, _options.Usings, _options.Optimize);

        // Values from clients are rebuilt as types this engine's own compiled code declares; any other stays JSON.
        CapCluster.Protocol.Values.ValueTypes.AgreedWhen ??= static type =>
            System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(type.Assembly) is SubmissionLoadContext;
    }

    /// <summary>Submissions compiled so far (cache hits compile nothing).</summary>
    public long SubmissionCount => Interlocked.Read(ref _submissionCount);

    /// <summary>The number of the last execute (In[n]); 0 before the first.</summary>
    public int ExecutionCount => Volatile.Read(ref _executionCount);

    /// <summary>The generation of the current chain: how many times the namespace rebased or reset.</summary>
    public int Generation
    {
        get
        {
            Enter();
            try
            {
                return _chain.Generation;
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Compiles and runs a throwaway submission in a throwaway chain, so Roslyn and the
    /// JIT are warm for the first real execute. Touches no variable and no execution count.</summary>
    /// <remarks>
    /// Anything else that needs the namespace (an execute, a push, a pull) cancels a warm-up in progress rather than
    /// wait for it: the warm-up may run at the lowest priority, and on a busy machine it could otherwise hold the
    /// namespace for as long as other work keeps the CPU. What it compiled before the cancellation stays compiled.
    /// </remarks>
    public async Task WarmUpAsync(CancellationToken ct)
    {
        using var warmUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Volatile.Write(ref _warmUp, warmUp);
        try
        {
            await _gate.WaitAsync(warmUp.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Volatile.Write(ref _warmUp, null);
            throw;
        }

        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var capture = ConsoleCapture.Begin();
            using var chain = new SubmissionChain(-1, _options.Usings, _options.Optimize);
            var (submission, _) = chain.Compile("var warm = new List<int> { 1 }; Console.Write(warm.Sum()); warm.Count", "In[0]", warmUp.Token);
            Interlocked.Increment(ref _submissionCount);
            if (submission is not null)
                await chain.Run(submission).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _warmUp, null);
            _gate.Release();
        }
    }

    private void Enter()
    {
        StopWarmUp();
        _gate.Wait();
    }

    private Task EnterAsync(CancellationToken ct)
    {
        StopWarmUp();
        return _gate.WaitAsync(ct);
    }

    private void StopWarmUp()
    {
        try
        {
            Volatile.Read(ref _warmUp)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The warm-up ended between the read and the cancel.
        }
    }

    public async Task<ExecutionOutcome> ExecuteAsync(string code, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(code);
        await EnterAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var count = ++_executionCount;
            var outcome = await RunAsync(code, count, ct).ConfigureAwait(false);
            Remember(outcome);
            return outcome;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A past outcome by execution count (the last 1000 are kept), or null.</summary>
    public ExecutionOutcome? History(int executionCount)
    {
        lock (_historyLock)
            return _history.GetValueOrDefault(executionCount);
    }

    public void Dispose()
    {
        Enter();
        try
        {
            if (_disposed)
                return;
            _disposed = true;
            _bindings.Clear();
            _cache.Clear();
            _chain.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <remarks>Cancellation stops waiting for the gate and compiling; once user code runs,
    /// the execute waits for it, so two submissions never run at once.</remarks>
    private async Task<ExecutionOutcome> RunAsync(string code, int count, CancellationToken ct)
    {
        using var capture = ConsoleCapture.Begin();
        RebaseIfDue();
        FlushNotes();

        var submission = Cached(code);
        var compiled = submission is null;
        if (submission is null)
        {
            var (fresh, errors) = _chain.Compile(code, $"In[{count}]", ct);
            if (fresh is null)
                return Outcome(count, code, capture, null, false, ExecutionFailures.Compilation(errors));
            Interlocked.Increment(ref _submissionCount);
            submission = fresh;
        }

        object? value = null;
        RemoteFailure? failure = null;
        if (submission.Factory is not null)
        {
            try
            {
                value = await _chain.Run(submission).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                failure = ExecutionFailures.Runtime(exception, submission.Path);
            }
        }
        // A submission that threw still declared its variables (as a REPL does), so it joins the namespace either way.
        if (compiled)
            Adopt(code, submission);
        var hasValue = failure is null && submission.HasValue;
        return Outcome(count, code, capture, hasValue ? value : null, hasValue, failure);
    }

    private CompiledSubmission? Cached(string code)
    {
        if (!_cache.TryGetValue(code, out var entry) || entry.DeclarationVersion != _declarationVersion
            || entry.Submission.Chain != _chain)
            return null;
        foreach (var (name, binding) in entry.Bindings)
        {
            VariableBinding? current = _bindings.TryGetValue(name, out var b) ? b : null;
            if (current != binding)
                return null;
        }
        return entry.Submission;
    }

    /// <summary>Makes a freshly run submission's variables and declarations part of the namespace.</summary>
    private void Adopt(string code, CompiledSubmission submission)
    {
        if (submission.Factory is not null && _chain.InstanceAt(submission.Slot)?.GetType() != submission.SubmissionType)
            throw new InvalidOperationException($"Submission {submission.Path} did not land in slot {submission.Slot}.");
        foreach (var field in submission.Fields)
            _bindings[field.Name] = new VariableBinding(submission.Slot, field);
        if (submission.DeclaresMembers)
            _declarationVersion++;
        if (submission.ReplaySource is not null)
            _declarations.Add((submission.Path, submission.ReplaySource));
        if (submission.Reusable)
        {
            if (_cache.Count >= CacheLimit)
                _cache.Clear();
            _cache[code] = new CachedSubmission(submission, _declarationVersion,
                [.. submission.Names.Select(n => (n, _bindings.TryGetValue(n, out var b) ? b : (VariableBinding?)null))]);
        }
    }

    private static ExecutionOutcome Outcome(
        int count, string code, ConsoleCapture capture, object? value, bool hasValue, RemoteFailure? failure) =>
        new(count, code, capture.Stdout, capture.Stderr, value, hasValue, failure);

    private void Remember(ExecutionOutcome outcome)
    {
        lock (_historyLock)
        {
            _history[outcome.ExecutionCount] = outcome;
            _history.Remove(outcome.ExecutionCount - HistoryLimit);
        }
    }

    /// <summary>Notes from a rebase (declarations that could not be carried) reach the user on
    /// the stderr of the next execute.</summary>
    private void FlushNotes()
    {
        foreach (var note in _notes)
            Console.Error.WriteLine(note);
        _notes.Clear();
    }
}
