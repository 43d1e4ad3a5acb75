namespace CapCluster.Client.Internal.Delegates;

/// <summary>Everything an engine needs to run a compiled delegate, with its captured variables still as objects.</summary>
/// <param name="Assemblies">The declaring assembly first, then every non-framework assembly it references transitively.</param>
/// <param name="ClosureId">The <see cref="Protocol.AssemblyClosure"/> id of <paramref name="Assemblies"/>: a task names them by it.</param>
/// <param name="DeclaringTypeName">Full name of the type declaring the method (a display class for closures).</param>
/// <param name="MethodToken">Metadata token of the method in the declaring assembly's manifest module.</param>
/// <param name="IsStatic">True when the method is static and needs no target.</param>
/// <param name="Captured">Only the closure fields the method (and compiler-generated code it reaches) reads; those of a delegate in <paramref name="Delegates"/> follow its path and a "/".</param>
/// <param name="ParameterTypes">The method's declared parameter types, for binding decoded arguments.</param>
/// <param name="ReturnType">The method's declared return type (Task and ValueTask are awaited by the engine).</param>
/// <param name="Delegates">The delegates it reads from captured variables (a <c>Func</c> held in one), each a method of <paramref name="Assemblies"/>.</param>
internal sealed record DelegatePackage(
    IReadOnlyList<AssemblyImage> Assemblies,
    string ClosureId,
    string DeclaringTypeName,
    int MethodToken,
    bool IsStatic,
    IReadOnlyList<CapturedValue> Captured,
    IReadOnlyList<Type> ParameterTypes,
    Type ReturnType,
    IReadOnlyList<NestedDelegate> Delegates)
{
    /// <summary>The delegates the method reads, as a call names them: their assemblies by place in <see cref="Assemblies"/>.</summary>
    public IEnumerable<CapCluster.Protocol.V1.CapturedDelegate> DelegateMessages() =>
        Delegates.Select(d => new CapCluster.Protocol.V1.CapturedDelegate
        {
            Name = d.FieldName,
            Assembly = IndexOf(d.AssemblyHash),
            DeclaringType = d.DeclaringTypeName,
            MethodToken = d.MethodToken,
            IsStatic = d.IsStatic,
        });

    /// <summary>Where the image <paramref name="hash"/> is in <see cref="Assemblies"/>; -1 when it is not there.</summary>
    public int IndexOf(string hash)
    {
        for (var i = 0; i < Assemblies.Count; i++)
        {
            if (Assemblies[i].Hash == hash)
                return i;
        }
        return -1;
    }
}
