namespace CapCluster.Engine.Tests;

public sealed class BuildTests
{
    [Fact]
    public void EngineAssembly_IsTheCapengineExecutable() =>
        Assert.Equal("capengine", typeof(CapCluster.Engine.EngineHost).Assembly.GetName().Name);
}
