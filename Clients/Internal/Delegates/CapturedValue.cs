namespace CapCluster.Client.Internal.Delegates;

/// <summary>
/// One captured variable the shipped method reads. <see cref="FieldName"/> is a dotted path from the
/// delegate's target through nested closure objects ("CS$&lt;&gt;8__locals1.factor"); <see cref="VariableName"/>
/// is the C# name ("factor", or "this" for a captured <c>this</c>).
/// </summary>
internal sealed record CapturedValue(string FieldName, string VariableName, Type DeclaredType, object? Value);

/// <summary>
/// A delegate held in a captured variable the shipped method reads (<c>Func&lt;int, int&gt; f</c>): the method it calls, in the
/// assembly whose image is <see cref="AssemblyHash"/>; its own captured values follow <see cref="FieldName"/> and a "/".
/// </summary>
internal sealed record NestedDelegate(string FieldName, string VariableName, string AssemblyHash, string DeclaringTypeName, int MethodToken, bool IsStatic);
