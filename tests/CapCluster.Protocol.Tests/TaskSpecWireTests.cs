using CapCluster.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace CapCluster.Protocol.Tests;

/// <summary>
/// <c>TaskSpec.requires</c> was a <c>map&lt;string, string&gt;</c> and is now pairs (<c>repeated Requirement</c>): on the wire
/// they are the same, so a journal or a peer from before reads and is read as it was.
/// </summary>
public sealed class TaskSpecWireTests
{
    // Field 6, length-delimited: the tag both forms write.
    private static readonly MapField<string, string>.Codec MapCodec = new(FieldCodec.ForString(10, string.Empty), FieldCodec.ForString(18, string.Empty), 50);

    [Fact]
    public void Requires_WrittenAsAMap_IsReadAsPairs()
    {
        var map = new MapField<string, string> { { "gpu", "yes" }, { "rack", string.Empty } };
        var bytes = new MemoryStream();
        var output = new CodedOutputStream(bytes);
        output.WriteTag(3, WireFormat.WireType.Varint);
        output.WriteInt32(2);
        map.WriteTo(output, MapCodec);
        output.Flush();

        var spec = TaskSpec.Parser.ParseFrom(bytes.ToArray());

        Assert.Equal(2, spec.Retries);
        Assert.Equal([("gpu", "yes"), ("rack", string.Empty)], spec.Requires.Select(r => (r.Name, r.Value)));
    }

    [Fact]
    public void Requires_WrittenAsPairs_IsReadAsTheMap()
    {
        var spec = new TaskSpec { Retries = 2, Requires = { new Requirement { Name = "gpu", Value = "yes" }, new Requirement { Name = "rack" } } };

        var map = new MapField<string, string>();
        var input = new CodedInputStream(spec.ToByteArray());
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            if (tag == 50)
            {
                map.AddEntriesFrom(input, MapCodec);
            }
            else
            {
                input.SkipLastField();
            }
        }

        Assert.Equal(new Dictionary<string, string> { ["gpu"] = "yes", ["rack"] = string.Empty }, map.ToDictionary());
    }
}
