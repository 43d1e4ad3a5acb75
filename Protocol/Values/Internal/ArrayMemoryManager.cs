using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CapCluster.Protocol.Values.Internal;

/// <summary>
/// Bytes of a primitive array of any rank as <see cref="Memory{T}"/>, without copying.
/// Multi-dimensional arrays have no span constructor, hence this manager.
/// </summary>
internal sealed class ArrayMemoryManager : MemoryManager<byte>
{
    private readonly Array _array;
    private readonly long _offset;
    private readonly int _length;

    public ArrayMemoryManager(Array array, long offset, int length)
    {
        _array = array;
        _offset = offset;
        _length = length;
    }

    public override Span<byte> GetSpan() =>
        MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref MemoryMarshal.GetArrayDataReference(_array), (nint)_offset), _length);

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)_length)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        }

        var handle = GCHandle.Alloc(_array, GCHandleType.Pinned);
        byte* start = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        return new MemoryHandle(start + _offset + elementIndex, handle);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
