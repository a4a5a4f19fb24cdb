using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CsCheck;
using WampContracts.Protocol;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.Tests;

/// <summary>
/// The parser under at least <see cref="MinimumFrames"/> hostile frames (<see cref="WampFuzz.Frames"/>): it refuses
/// with <see cref="WampProtocolException"/> and nothing else, within a bound, and whatever it accepts can be read by
/// every reader of the parts it returns. The env var <c>WAMP_FUZZ_FRAMES</c> raises the count for longer local runs;
/// <c>WAMP_FUZZ_SEED</c> replays a run (CsCheck prints the seed of a failure).
/// </summary>
public class MessageParserFuzzTests(ITestOutputHelper output)
{
    /// <summary>The least number of frames a run drives through the parser.</summary>
    public const int MinimumFrames = 100_000;

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    internal static int FrameCount =>
        Math.Max(MinimumFrames, int.TryParse(Environment.GetEnvironmentVariable("WAMP_FUZZ_FRAMES"), out int n) ? n : 0);

    [Fact]
    public async Task The_parser_refuses_hostile_frames_only_with_WampProtocolException_and_what_it_accepts_can_be_read()
    {
        var frames = Gen.OneOf(WampFuzz.Frames(toRouter: true, maxHuge: 64 * 1024), WampFuzz.Frames(toRouter: false, maxHuge: 64 * 1024));
        long accepted = 0, refused = 0, overLimit = 0, bytes = 0;
        int count = FrameCount;
        var clock = Stopwatch.StartNew();
        await Task.Run(() => frames.Sample(frame =>
            {
                Interlocked.Add(ref bytes, frame.Length);
                switch (ParseAndRead(frame))
                {
                    case Outcome.Accepted: Interlocked.Increment(ref accepted); break;
                    case Outcome.OverLimit: Interlocked.Increment(ref overLimit); break;
                    default: Interlocked.Increment(ref refused); break;
                }
            },
            iter: count, seed: Environment.GetEnvironmentVariable("WAMP_FUZZ_SEED"), print: Show)).WaitAsync(Bound);
        clock.Stop();

        Assert.True(accepted + refused + overLimit >= count, $"only {accepted + refused + overLimit} of {count} frames were parsed");
        Assert.True(accepted > count / 50 && refused > count / 50, $"the frames should be both accepted and refused: {accepted} accepted, {refused} refused");
        Report($"parser fuzz: {accepted + refused + overLimit:N0} frames ({bytes / (1024 * 1024):N0} MiB) in {clock.Elapsed.TotalSeconds:0.0} s: " +
               $"{accepted:N0} accepted and read, {refused:N0} refused, {overLimit:N0} refused as nested past the limit");
    }

    private enum Outcome { Accepted, Refused, OverLimit }

    /// <summary>Parses a frame and, when it parses, reads every part of it; also reads its head as an oversized message's would be.</summary>
    private static Outcome ParseAndRead(byte[] frame)
    {
        WampMessageParser.TryParseHead(frame, out _, out _, out _, out _);
        WampMessageParser.TryParseHead(frame.AsSpan(0, frame.Length / 2), out _, out _, out _, out _);
        WampMessage m;
        try
        {
            m = WampMessageParser.Parse(frame);
        }
        catch (WampProtocolException e)
        {
            return e.ExceedsLimit ? Outcome.OverLimit : Outcome.Refused;
        }
        ReadDict(m.Dict);
        Walk(m.Dict.ToJsonElement());
        var payload = m.Payload;
        for (int i = 0; i < payload.ArgumentCount; i++) Assert.False(payload.GetArgumentJson(i).IsEmpty);
        Walk(payload.Arguments);
        Walk(payload.KeywordArguments);
        if (payload.HasKeywordArguments) ReadDict(new WampDict(payload.KeywordArgumentsJson));
        _ = m.ToString();
        return Outcome.Accepted;
    }

    /// <summary>Every reader of a dictionary, on every key it holds, and on the dictionaries inside it.</summary>
    private static void ReadDict(WampDict dict)
    {
        dict.ForEach(dict, static (d, key, raw) =>
        {
            byte[] name = Encoding.UTF8.GetBytes(key);
            d.GetString(name);
            d.GetInt64(name);
            d.GetBool(name);
            Assert.False(d.GetRaw(name).IsEmpty);
            if (raw.Span[0] == (byte)'{') ReadDict(d.GetDict(name));
        });
    }

    /// <summary>Reads every string and property name of a JSON value.</summary>
    private static void Walk(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                e.GetString();
                break;
            case JsonValueKind.Array:
                foreach (var item in e.EnumerateArray()) Walk(item);
                break;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    _ = p.Name;
                    Walk(p.Value);
                }
                break;
        }
    }

    private static string Show(byte[] frame)
    {
        string text = Encoding.UTF8.GetString(frame);
        return $"{frame.Length} bytes: {(text.Length > 400 ? text[..400] + "…" : text)} (hex head {Convert.ToHexString(frame.AsSpan(0, Math.Min(frame.Length, 64)))})";
    }

    private void Report(string line) => FuzzReport.Write(output, line);
}
