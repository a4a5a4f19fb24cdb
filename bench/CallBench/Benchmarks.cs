using System.Buffers.Text;
using System.Text;
using BenchmarkDotNet.Attributes;
using WampContracts.Protocol;
using WampContracts.Router;
using WampContracts.Transport;

namespace WampContracts.Bench;

/// <summary>
/// One echo call through the embedded router on the in-memory transport, by the generated proxy and by raw
/// <see cref="WampSession.CallAsync"/> doing the same work by hand (arguments serialized, the first result read back).
/// Caller, router and callee share the process: the allocations are the whole round trip's.
/// </summary>
[MemoryDiagnoser]
public class ProxyVsRawCall
{
    private static readonly Nested Values = new([1, 2, 3]);
    private WampRouter _router = null!;
    private WampSession _callee = null!;
    private WampSession _caller = null!;
    private IEcho _proxy = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _router = WampRouter.CreateInMemory();
        var options = new WampSessionOptions { JsonSerializerOptions = BenchJsonContext.Default.Options };
        _callee = await WampSession.JoinAsync(_router.ConnectInMemory(), "realm1", options);
        await _callee.RegisterAsync("com.example.echo", (inv, ct) => ValueTask.FromResult(inv.Payload), new WampRegisterOptions { RunsInline = true });
        _caller = await WampSession.JoinAsync(_router.ConnectInMemory(), "realm1", options);
        _proxy = _caller.GetProxy<IEcho>();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _caller.DisposeAsync();
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    [Benchmark(Baseline = true)]
    public async Task<string> RawCallAsync()
    {
        var arguments = new WampPayloadBuilder()
            .AddArgument("hello", BenchJsonContext.Default.String)
            .AddArgument(42, BenchJsonContext.Default.Int32)
            .AddArgument(Values, BenchJsonContext.Default.Nested)
            .Build();
        var result = await _caller.CallAsync("com.example.echo", arguments);
        return result.Payload.GetArgument(0, BenchJsonContext.Default.String)!;
    }

    [Benchmark]
    public Task<string> ProxyCallAsync() => _proxy.Echo("hello", 42, Values);
}

/// <summary>
/// The router alone: a caller and a callee speak raw frames to it over the in-memory transport, one call at a time
/// (CALL in, INVOCATION out, YIELD in, RESULT out). The allocations include the in-memory transport's copy of each
/// of the four messages; nothing else on the peers' side allocates.
/// </summary>
[MemoryDiagnoser]
public class RouterDispatch
{
    private static readonly byte[] Call = """[48,1,{},"com.example.echo",["hello",42,{"nested":[1,2,3]}]]"""u8.ToArray();
    private static readonly byte[] YieldHead = "[70,"u8.ToArray();
    private static readonly byte[] YieldTail = """,{},["hello",42,{"nested":[1,2,3]}]]"""u8.ToArray();
    private readonly byte[] _yield = new byte[128];
    private WampRouter _router = null!;
    private IWampTransport _caller = null!;
    private IWampTransport _callee = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _router = WampRouter.CreateInMemory();
        _callee = await JoinAsync();
        await _callee.SendAsync("""[64,1,{},"com.example.echo"]"""u8.ToArray(), default);
        await ExpectAsync(_callee, WampMessageType.Registered);
        _caller = await JoinAsync();
    }

    private async Task<IWampTransport> JoinAsync()
    {
        var transport = _router.ConnectInMemory();
        await transport.SendAsync("""[1,"realm1",{"roles":{"caller":{},"callee":{}}}]"""u8.ToArray(), default);
        await ExpectAsync(transport, WampMessageType.Welcome);
        return transport;
    }

    private static async Task<long> ExpectAsync(IWampTransport transport, WampMessageType type)
    {
        var r = await transport.ReceiveAsync(default);
        var m = WampMessageParser.Parse(r.Message);
        if (m.Type != type) throw new InvalidOperationException($"expected {type}, got {Encoding.UTF8.GetString(r.Message.Span)}");
        return m.Id1;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _caller.DisposeAsync();
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    [Benchmark]
    public async Task RoutedCallAsync()
    {
        await _caller.SendAsync(Call, default);
        long invocation = await ExpectAsync(_callee, WampMessageType.Invocation);
        YieldHead.CopyTo(_yield, 0);
        Utf8Formatter.TryFormat(invocation, _yield.AsSpan(YieldHead.Length), out int digits);
        YieldTail.CopyTo(_yield, YieldHead.Length + digits);
        await _callee.SendAsync(_yield.AsMemory(0, YieldHead.Length + digits + YieldTail.Length), default);
        await ExpectAsync(_caller, WampMessageType.Result);
    }
}
