using System.Buffers;
using System.Runtime.InteropServices;

namespace WampContracts.Serialization;

/// <summary>
/// The JSON form of a received MessagePack or CBOR message that also keeps the message's payload (Arguments and
/// ArgumentsKw) in the encoding it arrived in. The parser's payload slices point into it; when such a payload is
/// written unchanged into a message for a peer of the same serializer (a router relaying a CALL as an INVOCATION, a
/// YIELD as a RESULT, a PUBLISH as an EVENT), the frame carries those bytes along and that peer's transport sends them
/// as they came: only the message's head is transcoded. Found from a slice with
/// <see cref="MemoryMarshal.TryGetMemoryManager{T, TManager}(ReadOnlyMemory{T}, out TManager, out int, out int)"/>, a
/// type check that fails at once for the arrays JSON messages live in.
/// </summary>
internal sealed class TranscodedMessage(byte[] json, WampSerializer serializer, byte[] nativePayload, int argumentsStart, int keywordArgumentsStart) : MemoryManager<byte>
{
    /// <summary>The serializer the message arrived in.</summary>
    public WampSerializer Serializer { get; } = serializer;

    /// <summary>The payload elements (one or two) as they arrived.</summary>
    public byte[] NativePayload { get; } = nativePayload;

    /// <summary>Where the Arguments element starts in the JSON.</summary>
    public int ArgumentsStart { get; } = argumentsStart;

    /// <summary>Where the ArgumentsKw element starts in the JSON; -1 when the message has none.</summary>
    public int KeywordArgumentsStart { get; } = keywordArgumentsStart;

    /// <summary>1 or 2: the payload elements in <see cref="NativePayload"/>.</summary>
    public int Elements => KeywordArgumentsStart < 0 ? 1 : 2;

    public override Span<byte> GetSpan() => json;

    public override MemoryHandle Pin(int elementIndex = 0) => json.AsMemory(elementIndex).Pin();

    public override void Unpin()
    {
        // The handle Pin returned unpins itself.
    }

    protected override void Dispose(bool disposing)
    {
    }

    /// <summary>
    /// The native payload of <paramref name="payload"/> when it is exactly the payload of a received binary message
    /// (the same elements, none dropped as empty); null otherwise.
    /// </summary>
    public static TranscodedMessage? Of(in WampPayload payload)
    {
        if (!payload.HasArguments ||
            !MemoryMarshal.TryGetMemoryManager(payload.ArgumentsJson, out TranscodedMessage? message, out int start, out _) ||
            start != message.ArgumentsStart)
            return null;
        if (payload.HasKeywordArguments)
        {
            return MemoryMarshal.TryGetMemoryManager(payload.KeywordArgumentsJson, out TranscodedMessage? same, out int kwargs, out _) &&
                   ReferenceEquals(same, message) && kwargs == message.KeywordArgumentsStart ? message : null;
        }
        return message.KeywordArgumentsStart < 0 ? message : null;
    }
}

/// <summary>A frame's payload in a binary encoding, to be spliced in after the JSON head that ends at <see cref="JsonOffset"/>.</summary>
internal sealed class NativeSplice(TranscodedMessage source, int jsonOffset)
{
    public TranscodedMessage Source { get; } = source;

    public int JsonOffset { get; } = jsonOffset;
}
