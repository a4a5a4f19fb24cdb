using System.Text.Json.Serialization;
using WampContracts.Router;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

public sealed record Conference(string Name, string Where, int Id);

/// <summary>The JS peer answers in snake_case: a property name says so (the default naming is camelCase).</summary>
public sealed record Slept([property: JsonPropertyName("slept_ms")] int SleptMs);

[WampService("com.example.conferences")]
public interface IConferences
{
    Task<Conference> Get(int id, CancellationToken cancellationToken = default);
}

[WampService("com.example")]
public interface IExampleTools
{
    IAsyncEnumerable<int> Import(int count, CancellationToken cancellationToken = default);

    [Timeout(200)]
    Task<Slept> Slow(int ms, CancellationToken cancellationToken = default);
}

[WampError("com.example.error.not_found")]
public sealed class ConferenceNotFoundException(int id) : WampException("com.example.error.not_found", $"conference {id} not found")
{
    public int Id { get; } = id;     // travels as the keyword argument "id"; callers get the exception back with it
}

/// <summary>The wire shape of generated code is plain, idiomatic WAMP: Autobahn peers call it and are called by it.</summary>
public sealed class GeneratedContractInteropTests : IAsyncLifetime
{
    private WampRouter _router = null!;

    public async Task InitializeAsync() => _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });

    public async Task DisposeAsync() => await _router.DisposeAsync();

    private sealed class ConferenceService : IConferences
    {
        public Task<Conference> Get(int id, CancellationToken cancellationToken = default) =>
            id == 123 ? Task.FromResult(new Conference("deSymfony", "Madrid", 123)) : throw new ConferenceNotFoundException(id);
    }

    [Fact]
    public async Task An_autobahn_python_caller_calls_a_generated_callee()
    {
        await using var callee = await WampSession.ConnectAsync(_router.Url!, "realm1");
        await using var registration = await callee.RegisterAsync<IConferences>(new ConferenceService());

        var ok = (await Peers.RunPythonAsync(_router.Url!, "get", "123")).Single();
        Assert.Equal("""{"name": "deSymfony", "where": "Madrid", "id": 123}""", ok.Field("result").GetRawText());

        var error = (await Peers.RunPythonAsync(_router.Url!, "get", "999")).Single();
        Assert.Equal("com.example.error.not_found", error.Field("error").GetString());
        Assert.Equal("""["conference 999 not found"]""", error.Field("args").GetRawText());
        Assert.Equal("""{"id": 999}""", error.Field("kwargs").GetRawText());
    }

    [Fact]
    public async Task A_generated_caller_calls_an_autobahn_js_callee()
    {
        await using var js = await Peers.StartJsCalleeAsync(_router.Url!);
        await using var session = await WampSession.ConnectAsync(_router.Url!, "realm1");
        var conferences = session.GetProxy<IConferences>();

        Assert.Equal(new Conference("deSymfony", "Madrid", 123), await conferences.Get(123).WaitAsync(Peers.Bound));
        var e = await Assert.ThrowsAsync<ConferenceNotFoundException>(() => conferences.Get(999).WaitAsync(Peers.Bound));
        Assert.Equal(999, e.Id);

        var tools = session.GetProxy<IExampleTools>();
        var items = new List<int>();
        await foreach (var i in tools.Import(3).WithCancellation(new CancellationTokenSource(Peers.Bound).Token)) items.Add(i);
        Assert.Equal([1, 2, 3], items);

        // [Timeout(200)] travels with the call: the router ends the 10 s call and interrupts the JS callee (a call far
        // longer than its limit, so a busy machine that holds the timers back a while cannot turn it into an answer).
        var timeout = await Assert.ThrowsAsync<WampTimeoutException>(() => tools.Slow(10_000).WaitAsync(Peers.Bound));
        Assert.Equal(TimeSpan.FromMilliseconds(200), timeout.Limit);
        Assert.Contains("killnowait", await js.WaitForLineAsync("INTERRUPT", Peers.Bound));
        // Within its limit the call succeeds; a scope lifts the contract's 200 ms so a busy machine cannot fail it.
        using (WampTimeout.Override(TimeSpan.FromSeconds(10)))
            Assert.Equal(new Slept(50), await tools.Slow(50).WaitAsync(Peers.Bound));
    }
}
