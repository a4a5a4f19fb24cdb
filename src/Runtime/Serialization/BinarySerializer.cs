namespace WampContracts.Serialization;

/// <summary>
/// A binary serializer: its format's decoder and encoder (one of each per thread, reused), behind the conversions the
/// transports call. The formats differ only in <typeparamref name="TDecoder"/> and <typeparamref name="TEncoder"/>.
/// </summary>
internal abstract class BinarySerializer<TDecoder, TEncoder>(string subprotocol, byte rawSocketId, string name)
    : WampSerializer(subprotocol, rawSocketId, name)
    where TDecoder : BinaryDecoder, new()
    where TEncoder : BinaryEncoder, new()
{
    [ThreadStatic] private static TDecoder? t_decoder;
    [ThreadStatic] private static TEncoder? t_encoder;

    private static TDecoder Decoder => t_decoder ??= new TDecoder();

    private static TEncoder Encoder => t_encoder ??= new TEncoder();

    public override byte[] ToJson(ReadOnlySpan<byte> message) => Decoder.ToJson(message);

    public override byte[] ToJsonHead(ReadOnlySpan<byte> prefix) => Decoder.ToJsonHead(prefix);

    internal override ReadOnlyMemory<byte> ToJsonMessage(ReadOnlySpan<byte> message) => Decoder.ToJsonMessage(message, this);

    internal override int FromJsonSplice(ReadOnlySpan<byte> jsonHead, ReadOnlySpan<byte> nativePayload, int elements, ref byte[] buffer, int offset) =>
        Encoder.EncodeSplice(jsonHead, nativePayload, elements, ref buffer, offset);

    public override int FromJson(ReadOnlySpan<byte> json, ref byte[] buffer, int offset = 0) => Encoder.Encode(json, ref buffer, offset);
}
