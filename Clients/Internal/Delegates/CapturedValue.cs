namespace CapCluster.Client.Internal.Delegates;

/// <summary>
/// One captured variable the shipped method reads. <see cref="FieldName"/> is a dotted path from the
/// delegate's target through nested closure objects ("CS$&lt;&gt;8__locals1.factor"); <see cref="VariableName"/>
/// is the C# name ("factor", or "this" for a captured <c>this</c>).
/// </summary>
internal sealed record CapturedValue(string FieldName, string VariableName, Type DeclaredType, object? Value);
