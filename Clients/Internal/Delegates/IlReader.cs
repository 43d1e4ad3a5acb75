using System.Reflection;
using System.Reflection.Emit;

namespace CapCluster.Client.Internal.Delegates;

/// <summary>
/// Walks a method body's IL and yields the instructions whose operand is a metadata token
/// (fields and methods); the opcode table comes from <see cref="OpCodes"/>.
/// </summary>
internal static class IlReader
{
    private static readonly OpCode[] OneByte = new OpCode[0x100];
    private static readonly OpCode[] TwoByte = new OpCode[0x100];

    static IlReader()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (field.GetValue(null) is not OpCode code)
                continue;
            var value = (ushort)code.Value;
            if (code.Size == 1)
                OneByte[value] = code;
            else
                TwoByte[value & 0xFF] = code;
        }
    }

    /// <summary>The token-carrying instructions of <paramref name="il"/>, in order.</summary>
    public static IEnumerable<(OpCode Code, int Token)> TokenInstructions(byte[] il)
    {
        var position = 0;
        while (position < il.Length)
        {
            OpCode code;
            var first = il[position++];
            if (first == 0xFE)
            {
                if (position >= il.Length)
                    yield break;
                code = TwoByte[il[position++]];
            }
            else
            {
                code = OneByte[first];
            }
            if (code.Size == 0)
                throw new InvalidOperationException($"unknown IL opcode 0x{first:X2} at offset {position - 1}");

            switch (code.OperandType)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    yield return (code, BitConverter.ToInt32(il, position));
                    position += 4;
                    break;
                case OperandType.InlineSwitch:
                    var count = BitConverter.ToInt32(il, position);
                    position += 4 + 4 * count;
                    break;
                default:
                    position += OperandSize(code.OperandType);
                    break;
            }
        }
    }

    private static int OperandSize(OperandType type) => type switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        _ => 4,
    };
}
