using System.Text.Json;
using WampContracts.Router;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>Autobahn|Python callers and Autobahn|JS callees meeting at our router.</summary>
public sealed class AutobahnAgainstOurRouterTests : IAsyncLifetime
{
    private WampRouter _router = null!;
    private PeerProcess _callee = null!;

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        _callee = await Peers.StartJsCalleeAsync(_router.Url!);
    }

    public async Task DisposeAsync()
    {
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    [Fact]
    public async Task A_python_caller_gets_the_conference_from_a_js_callee()
    {
        var result = (await Peers.RunPythonAsync(_router.Url!, "get", "123")).Single();
        var conference = result.Field("result");
        Assert.Equal("deSymfony", conference.GetProperty("name").GetString());
        Assert.Equal("Madrid", conference.GetProperty("where").GetString());
        Assert.Equal(123, conference.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task A_callee_error_uri_and_its_args_and_kwargs_reach_the_caller_intact()
    {
        var result = (await Peers.RunPythonAsync(_router.Url!, "get", "999")).Single();
        Assert.Equal("com.example.error.not_found", result.Field("error").GetString());
        Assert.Equal("""["conference 999 not found"]""", result.Field("args").GetRawText());
        Assert.Equal("""{"id": 999}""", result.Field("kwargs").GetRawText());
    }

    [Fact]
    public async Task A_call_timeout_of_200_ms_to_a_10_s_procedure_fails_early_and_interrupts_the_callee()
    {
        // The procedure takes far longer than the limit, so a machine busy enough to hold the router's timer back for
        // a while still sees the timeout, not the answer (the test takes about 200 ms of it either way).
        var result = (await Peers.RunPythonAsync(_router.Url!, "timeout", "10000", "200")).Single();
        Assert.Equal("wamp.error.timeout", result.Field("error").GetString());
        // An error, not the procedure's answer: the dealer's timer ended the call, about 200 ms in (timers on two
        // clocks in two processes may differ by a few milliseconds).
        Assert.True(result.Field("elapsed_ms").GetInt32() >= 150, result.ToString());
        string interrupt = await _callee.WaitForLineAsync("INTERRUPT", Peers.Bound);
        Assert.Contains("\"mode\":\"killnowait\"", interrupt);
    }

    [Theory]
    [InlineData("skip", false, "was canceled (skip)")]
    [InlineData("kill", true, "interrupted")]
    [InlineData("killnowait", true, "was canceled (killnowait)")]
    public async Task Cancel_in_each_mode_behaves_as_the_protocol_says(string mode, bool interrupts, string answer)
    {
        var result = (await Peers.RunPythonAsync(_router.Url!, "cancel", mode)).Single();
        Assert.Equal("wamp.error.canceled", result.Field("error").GetString());
        // skip and killnowait: the router answers at once; kill: the callee's own answer ("interrupted") comes back.
        Assert.Contains(answer, result.Field("args")[0].GetString());
        if (interrupts)
            Assert.Contains($"\"mode\":\"{mode}\"", await _callee.WaitForLineAsync("INTERRUPT", Peers.Bound));
        else
            Assert.DoesNotContain("INTERRUPT", _callee.Log);
    }

    [Fact]
    public async Task Progressive_results_reach_a_python_caller_from_a_js_callee()
    {
        var result = (await Peers.RunPythonAsync(_router.Url!, "progress", "3")).Single();
        Assert.Equal("[[1], [2], [3]]", result.Field("progress").GetRawText());
        Assert.Equal("imported 3", result.Field("result").GetString());
    }

    [Fact]
    public async Task A_shared_roundrobin_registration_alternates_between_js_callees()
    {
        // A realm of their own, apart from the fixture's callee.
        await using var a = await Peers.StartJsCalleeAsync(_router.Url!, "A", "roundrobin", realm: "shared", only: "whoami");
        await using var b = await Peers.StartJsCalleeAsync(_router.Url!, "B", "roundrobin", realm: "shared", only: "whoami");
        var result = (await Peers.RunPythonInRealmAsync(_router.Url!, "shared", "repeat", "com.example.whoami", "4")).Single();
        Assert.Equal("""["A", "B", "A", "B"]""", result.Field("results").GetRawText());
    }

    [Fact]
    public async Task A_python_subscriber_receives_what_a_js_publisher_publishes()
    {
        await using var publisher = await Peers.StartJsCalleeAsync(_router.Url!, "publisher", publishIntervalMs: 50, only: "none");
        var result = (await Peers.RunPythonAsync(_router.Url!, "subscribe", "com.example.ticks", "3")).Last();
        var events = result.Field("events").EnumerateArray().ToList();
        Assert.Equal(3, events.Count);
        foreach (var e in events)
            Assert.Equal(e.GetProperty("args")[0].GetInt32(), e.GetProperty("kwargs").GetProperty("seq").GetInt32());
        var seqs = events.Select(e => e.GetProperty("args")[0].GetInt32()).ToList();
        Assert.Equal(seqs.Order(), seqs); // in publish order
    }
}
