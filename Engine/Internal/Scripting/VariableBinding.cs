using System.Reflection;

namespace CapCluster.Engine.Internal.Scripting;

/// <summary>Where a variable lives: a field of the submission instance in a chain slot.</summary>
internal readonly record struct VariableBinding(int Slot, FieldInfo Field);
