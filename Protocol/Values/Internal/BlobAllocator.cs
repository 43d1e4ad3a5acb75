using CapCluster.Protocol.V1;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>Walks a tree and allocates the final array for every blob-carried array header.</summary>
internal sealed class BlobAllocator
{
    private readonly long _maxTotalBytes;
    private readonly List<Memory<byte>> _memories = [];
    private readonly List<Array?> _arrays = [];
    private long _total;

    public BlobAllocator(long maxTotalBytes) => _maxTotalBytes = maxTotalBytes;

    public BlobTargets Allocate(Value tree)
    {
        Visit(tree, 0);
        return new BlobTargets([.. _memories], [.. _arrays], _total);
    }

    private void Visit(Value value, int depth)
    {
        if (depth > 100)
        {
            throw ValueErrors.Malformed("the tree is nested more than 100 levels deep");
        }

        switch (value.KindCase)
        {
            case Value.KindOneofCase.Array when value.Array.DataCase == NumericArray.DataOneofCase.Blobs:
                AllocateArray(value.Array);
                break;
            case Value.KindOneofCase.List:
                foreach (var item in value.List.Items)
                {
                    Visit(item, depth + 1);
                }

                break;
            case Value.KindOneofCase.Map:
                foreach (var key in value.Map.Keys)
                {
                    Visit(key, depth + 1);
                }

                foreach (var item in value.Map.Values)
                {
                    Visit(item, depth + 1);
                }

                break;
            case Value.KindOneofCase.Tuple:
                foreach (var item in value.Tuple.Items)
                {
                    Visit(item, depth + 1);
                }

                break;
        }
    }

    private void AllocateArray(NumericArray header)
    {
        var (elementType, lengths) = ArrayLayout.Validate(header);
        var range = header.Blobs;
        if (range.BlobIndex != _memories.Count)
        {
            throw ValueErrors.Malformed($"an array starts at blob {range.BlobIndex}, expected blob {_memories.Count} (blobs are numbered in tree order)");
        }

        long length = header.ByteLength;
        long per = range.BlobBytes;
        if (length == 0 || per <= 0 || per > int.MaxValue || range.BlobCount != (length + per - 1) / per)
        {
            throw ValueErrors.Malformed($"an array of {length} bytes cannot be {range.BlobCount} blobs of {per} bytes");
        }

        if (length > _maxTotalBytes - _total)
        {
            throw ValueErrors.Malformed($"the value's blobs exceed the limit of {_maxTotalBytes} bytes");
        }

        var array = ArrayLayout.Allocate(elementType, lengths);
        _total += length;
        for (long offset = 0; offset < length; offset += per)
        {
            _memories.Add(new ArrayMemoryManager(array, offset, (int)Math.Min(per, length - offset)).Memory);
            _arrays.Add(offset == 0 ? array : null);
        }
    }
}
