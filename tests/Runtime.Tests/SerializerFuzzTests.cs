using System.Diagnostics;
using CsCheck;
using WampContracts.Protocol;
using WampContracts.Serialization;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.Tests;

/// <summary>
/// The MessagePack and CBOR transcoders under at least <see cref="MinimumFrames"/> hostile binary messages each: the
/// hostile JSON frames of <see cref="WampFuzz.Frames"/> transcoded (the valid ones), then mutated byte by byte (flips,
/// truncations, insertions of format bytes and of huge lengths), and plain garbage. A decoder refuses with
/// <see cref="WampProtocolException"/> and nothing else, what it accepts is bounded in size (at most six times the
/// message, plus a little) and parses or is refused by the parser like JSON, and a message it wrote itself comes
/// back to the same bytes. <c>WAMP_FUZZ_FRAMES</c> raises the count; <c>WAMP_FUZZ_SEED</c> replays a run.
/// </summary>
public class SerializerFuzzTests(ITestOutputHelper output)
{
    public const int MinimumFrames = 50_000;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    // Bytes that mean something in either format: container and string heads, lengths, extension and reserved codes, breaks.
    private static readonly byte[] Interesting =
        [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xc7, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
         0xe0, 0xff, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x40, 0x5f, 0x60, 0x7b, 0x9b, 0xbb, 0xc2, 0xd8, 0xf4, 0xf7, 0xf9, 0xfa, 0xfb, 0xfc];

    private static readonly Gen<Func<byte[], byte[]>> Mutation = Gen.OneOf(
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Byte, (at, b) => (Func<byte[], byte[]>)(m => { if (m.Length == 0) return m; var c = (byte[])m.Clone(); c[at % c.Length] = b; return c; })),
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, Interesting.Length - 1], (at, i) => (Func<byte[], byte[]>)(m => { if (m.Length == 0) return m; var c = (byte[])m.Clone(); c[at % c.Length] = Interesting[i]; return c; })),
        Gen.Int[0, int.MaxValue].Select(at => (Func<byte[], byte[]>)(m => m.AsSpan(0, m.Length == 0 ? 0 : at % m.Length).ToArray())),
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.OneOf<byte[]>([0xdb, 0xff, 0xff, 0xff, 0xff], [0xdd, 0x7f, 0xff, 0xff, 0xff], [0xc6, 0xff, 0xff, 0xff, 0xf0],
                [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x5b, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff], [0x9f], [0xbf], [0x7f], [0xff], [0xc6, 0, 0, 0, 0]),
            (at, insert) => (Func<byte[], byte[]>)(m => { int i = m.Length == 0 ? 0 : at % (m.Length + 1); return [.. m.AsSpan(0, i), .. insert, .. m.AsSpan(i)]; })));

    private static Gen<byte[]> Messages(WampSerializer serializer)
    {
        var valid = Gen.OneOf(WampFuzz.Frames(toRouter: true, maxHuge: 16 * 1024), WampFuzz.Frames(toRouter: false, maxHuge: 16 * 1024)).Select(json =>
        {
            byte[] buffer = [];
            try
            {
                int n = serializer.FromJson(json, ref buffer);
                return buffer.AsSpan(0, n).ToArray();
            }
            catch (WampProtocolException)
            {
                return json; // not JSON at all: garbage to the binary decoder too
            }
        });
        var mutated = Gen.Select(valid, Mutation.Array[1, 4], (m, ms) => ms.Aggregate(m, (x, f) => f(x)));
        return Gen.Frequency((3, valid), (6, mutated), (1, Gen.Byte.Array[0, 64]));
    }

    [Theory]
    [InlineData("msgpack")]
    [InlineData("cbor")]
    public async Task A_decoder_refuses_hostile_messages_only_with_WampProtocolException_within_bounded_memory(string name)
    {
        var serializer = WampSerializer.All.Single(s => s.Name == name);
        long accepted = 0, refused = 0, roundTrips = 0, bytes = 0;
        int count = Math.Max(MinimumFrames, int.TryParse(Environment.GetEnvironmentVariable("WAMP_FUZZ_FRAMES"), out int n) ? n : 0);
        var clock = Stopwatch.StartNew();
        await Task.Run(() => Messages(serializer).Sample(message =>
            {
                Interlocked.Add(ref bytes, message.Length);
                _ = serializer.ToJsonHead(message);
                _ = serializer.ToJsonHead(message.AsSpan(0, message.Length / 2));
                byte[] json;
                try
                {
                    json = serializer.ToJson(message);
                }
                catch (WampProtocolException)
                {
                    Interlocked.Increment(ref refused);
                    return;
                }
                Interlocked.Increment(ref accepted);
                // The transports' form (which keeps the payload's native bytes) reads the same.
                Assert.Equal(json, serializer.ToJsonMessage(message).ToArray());
                Assert.True(json.Length <= 6L * message.Length + 16, $"{message.Length} bytes became {json.Length} bytes of JSON");
                try
                {
                    WampMessageParser.Parse(json);
                }
                catch (WampProtocolException)
                {
                    // Refused like the same message in JSON would be: fine.
                }
                // Written again, and read again, it is stable: what the transcoder writes, it reads back to the same bytes.
                byte[] buffer = [];
                int length = serializer.FromJson(json, ref buffer);
                var again = buffer.AsSpan(0, length).ToArray();
                Assert.Equal(json, serializer.ToJson(again));
                Interlocked.Increment(ref roundTrips);
            },
            iter: count, seed: Environment.GetEnvironmentVariable("WAMP_FUZZ_SEED"), print: m => Convert.ToHexString(m.AsSpan(0, Math.Min(m.Length, 200))))).WaitAsync(Bound);
        clock.Stop();

        Assert.True(accepted + refused >= count);
        Assert.True(accepted > count / 20 && refused > count / 20, $"the messages should be both accepted and refused: {accepted} accepted, {refused} refused");
        FuzzReport.Write(output, $"{name} decoder fuzz: {accepted + refused:N0} messages ({bytes / (1024 * 1024):N0} MiB) in {clock.Elapsed.TotalSeconds:0.0} s: " +
            $"{accepted:N0} accepted (each written and read back the same), {refused:N0} refused");
    }
}
