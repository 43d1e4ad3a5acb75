using System.Security.Cryptography;
using CapCluster.Controller.Internal.Tasks;
using CapCluster.Protocol.V1;
using CapCluster.Controller.Tests.Infrastructure;
using Google.Protobuf;

namespace CapCluster.Controller.Tests.Tasks;

/// <summary>
/// The assembly images a capability has the controller keep (<see cref="AssemblyStore"/>) are within its budget: a
/// task shipping new images past it is refused, saying so, and nothing of it is kept; another capability is not
/// affected; an image the controller keeps already costs nothing, whoever sent it first; the charge survives a restart.
/// </summary>
public sealed class AssemblyBudgetTests
{
    private readonly AssemblyStore store = new(maxBytesPerCapability: 10_000);

    private static TaskSpec Shipping(params byte[][] images)
    {
        var call = new DelegateCall { DeclaringType = "Work", MethodToken = 1, IsStatic = true };
        foreach (var image in images)
        {
            call.Assemblies.Add(new AssemblyRef { Hash = Convert.ToHexStringLower(SHA256.HashData(image)), Name = "A", Image = ByteString.CopyFrom(image) });
        }

        var spec = new TaskSpec { Function = new ApplyRequest { Function = call } };
        Assert.Null(AssemblyStore.Check(spec));
        return spec;
    }

    [Fact]
    public void ImagesPastACapabilitysBudget_AreRefused_NotKept_AndOtherCapabilitiesAreNotAffected()
    {
        var first = RandomNumberGenerator.GetBytes(6_000);
        var second = RandomNumberGenerator.GetBytes(6_000);
        Assert.Null(store.Take(Shipping(first), null, "cap-a"));

        var refusal = store.Take(Shipping(second), null, "cap-a");

        Assert.NotNull(refusal);
        Assert.Contains("capability cap-a has had the controller keep 6000 bytes", refusal, StringComparison.Ordinal);
        Assert.Contains("--max-assembly-bytes", refusal, StringComparison.Ordinal);

        // Nothing of the refused closure was kept: naming it alone is refused as unknown; another capability may ship it.
        var named = new TaskSpec { Function = new ApplyRequest { Function = new DelegateCall { DeclaringType = "Work", MethodToken = 1, IsStatic = true, Closure = Shipping(second).Function.Function.Closure } } };
        Assert.Contains("was never sent", store.Take(named, null, "cap-a"), StringComparison.Ordinal);
        Assert.Null(store.Take(Shipping(second), null, "cap-b"));
    }

    [Fact]
    public void AnImageKeptAlready_CostsNothing_WhoeverSentItFirst()
    {
        var shared = RandomNumberGenerator.GetBytes(9_000);
        Assert.Null(store.Take(Shipping(shared), null, "cap-a"));

        Assert.Null(store.Take(Shipping(shared), null, "cap-b"));
        Assert.Null(store.Take(Shipping(shared, RandomNumberGenerator.GetBytes(1_000)), null, "cap-b"));
    }

    [Fact]
    public void ImagesReadBackFromTheJournal_AreChargedToNoOne()
    {
        Assert.Null(store.Take(Shipping(RandomNumberGenerator.GetBytes(20_000)), null, sender: null));
        Assert.Null(store.Take(Shipping(RandomNumberGenerator.GetBytes(9_000)), null, "cap-a"));
    }

    [Fact]
    public async Task AHoldersCharge_IsKeptInTheJournal_SoARestartDoesNotGiveItsBudgetAnew()
    {
        var options = new TaskFarmOptions { MaxAssemblyBytesPerCapability = 10_000 };
        await using var harness = new FarmHarness(options, journaled: true);
        var a = harness.Capability('a');
        var client = new FarmClient(harness.Farm, a);
        await client.SubmitJournaledAsync(new SubmitTask { ClientRef = 1, Spec = Shipping(RandomNumberGenerator.GetBytes(6_000)) });

        harness.NewFarm(options).Restore();
        var again = new FarmClient(harness.Farm, a);
        var refused = Assert.Single(again.Submit(new SubmitTask { ClientRef = 1, Spec = Shipping(RandomNumberGenerator.GetBytes(6_000)) }));
        Assert.Contains("has had the controller keep 6000 bytes", refused.Refused, StringComparison.Ordinal);
        new FarmClient(harness.Farm, harness.Capability('b')).SubmitAccepted(new SubmitTask { ClientRef = 1, Spec = Shipping(RandomNumberGenerator.GetBytes(6_000)) });
    }
}
