using CapCluster.Client.Internal;
using CapCluster.Protocol.V1;
using Google.Protobuf;

namespace CapCluster.Client.Tests;

/// <summary>A run of tasks that share one spec object sends it once a message; the tasks a client keeps for a resend keep their specs.</summary>
public sealed class SubmissionMessageTests
{
    [Fact]
    public void ARunOfOneSpec_SendsItWithTheFirst_TheOthersNameThatTask_AndAnotherSpecStartsANewRun()
    {
        var a = new TaskSpec { Code = new CodeTaskSpec { Code = "a" } };
        var b = new TaskSpec { Code = new CodeTaskSpec { Code = "b" } };
        var equalToA = a.Clone(); // equal by value, another object: sent as it is
        TaskSpec[] specs = [a, a, a, b, a, equalToA];
        var tasks = specs.Select((spec, i) => new SubmitTask { ClientRef = 10 + i, Spec = spec }).ToList();

        var message = new SubmissionMessage();
        for (var i = 0; i < tasks.Count; i++)
        {
            message.Add(tasks[i], specs[i]);
        }

        var sent = SubmitTasks.Parser.ParseFrom(message.Tasks.ToByteArray()).Tasks;
        Assert.Equal([10L, 11, 12, 13, 14, 15], sent.Select(t => t.ClientRef));
        Assert.Equal([0L, 10, 10, 0, 0, 0], sent.Select(t => t.SameSpecAs));
        Assert.Equal([a, null, null, b, a, a], sent.Select(t => t.Spec));
        Assert.All(tasks, (task, i) => Assert.Same(specs[i], task.Spec));
    }
}
