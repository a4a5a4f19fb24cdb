using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace WampContracts.Hosting.Tests;

public class OptionsBindingTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public void Binding_session_options_twice_changes_no_shared_default()
    {
        // Bound the way an application binds any options class (the reflection binder, into the property values).
        var first = Config(("RetryPolicy:MaxAttempts", "5"), ("RetryPolicy:InitialBackoff", "00:00:01"), ("WebSocket:KeepAliveInterval", "00:00:03"))
            .Get<WampSessionOptions>()!;
        var second = Config(("RetryPolicy:MaxAttempts", "1"), ("WebSocket:KeepAliveInterval", "00:00:07"))
            .Get<WampSessionOptions>()!;

        Assert.Equal(5, first.RetryPolicy.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), first.RetryPolicy.InitialBackoff);
        Assert.Equal(TimeSpan.FromSeconds(3), first.WebSocket.KeepAliveInterval);
        Assert.Equal(1, second.RetryPolicy.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), second.RetryPolicy.InitialBackoff);
        Assert.Equal(TimeSpan.FromSeconds(7), second.WebSocket.KeepAliveInterval);
        Assert.NotSame(first.RetryPolicy, second.RetryPolicy);

        // The statics, and a session's defaults, are what they always were.
        Assert.Equal(3, WampRetryPolicy.Default.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), WampRetryPolicy.Default.InitialBackoff);
        Assert.Equal(1, WampRetryPolicy.None.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(20), WampWebSocketOptions.Default.KeepAliveInterval);
        Assert.Null(WampReconnectPolicy.Default.MaxAttempts);
        var fresh = new WampSessionOptions();
        Assert.Equal(3, fresh.RetryPolicy.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(20), fresh.WebSocket.KeepAliveInterval);
    }

    [Fact]
    public void AddWamp_binds_the_Wamp_section_for_each_host_separately()
    {
        using var a = Host(Config(("Wamp:RouterUrl", "ws://127.0.0.1:1/ws"), ("Wamp:Realm", "realm1"), ("Wamp:ConnectTimeout", "00:00:02"),
            ("Wamp:DefaultCallTimeout", "00:00:04"), ("Wamp:Retry:MaxAttempts", "5"), ("Wamp:Retry:InitialBackoff", "00:00:00.250"),
            ("Wamp:Reconnect:MaxDelay", "00:00:09"), ("Wamp:Reconnect:MaxAttempts", "4")));
        using var b = Host(Config(("Wamp:RouterUrl", "wss://example.test/ws"), ("Wamp:Realm", "other"), ("Wamp:Retry:MaxAttempts", "1")));

        var first = a.Services.GetRequiredService<IOptions<WampClientOptions>>().Value;
        var second = b.Services.GetRequiredService<IOptions<WampClientOptions>>().Value;
        Assert.Equal(new Uri("ws://127.0.0.1:1/ws"), first.RouterUrl);
        Assert.Equal("realm1", first.Realm);
        Assert.Equal(TimeSpan.FromSeconds(2), first.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(4), first.DefaultCallTimeout);
        Assert.Equal(5, first.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(250), first.Retry.InitialBackoff);
        Assert.Equal(TimeSpan.FromSeconds(9), first.Reconnect.MaxDelay);
        Assert.Equal(4, first.Reconnect.MaxAttempts);
        Assert.Equal("other", second.Realm);
        Assert.Equal(1, second.Retry.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), second.Retry.InitialBackoff);
        Assert.Null(second.Reconnect.MaxAttempts);

        // What the session is built with follows the section, and the shared defaults stay as they were.
        var session = first.ToSessionOptions(new WampSessionSetup(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, TimeProvider.System);
        Assert.Equal(5, session.RetryPolicy.MaxAttempts);
        Assert.Equal(4, session.Reconnect!.MaxAttempts);
        Assert.Equal(3, WampRetryPolicy.Default.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(100), WampRetryPolicy.Default.InitialBackoff);
        Assert.Equal(TimeSpan.FromSeconds(5), WampReconnectPolicy.Default.MaxDelay);
    }

    [Fact]
    public async Task An_invalid_section_stops_the_host_at_start_naming_each_key()
    {
        using var host = Host(Config(("Wamp:RouterUrl", "http://127.0.0.1/ws"), ("Wamp:ConnectTimeout", "-00:00:01"), ("Wamp:Retry:MaxAttempts", "9"),
            ("Wamp:Reconnect:Multiplier", "0.5")));
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(bound.Token));
        Assert.Contains("Wamp:RouterUrl must be an absolute ws:// or wss:// address", e.Message);
        Assert.Contains("Wamp:Realm", e.Message);
        Assert.Contains("Wamp:ConnectTimeout must be positive", e.Message);
        Assert.Contains("Wamp:Retry:MaxAttempts must be 1 to 5", e.Message);
        Assert.Contains("Wamp:Reconnect:Multiplier must be at least 1", e.Message);
    }

    private static IHost Host(IConfiguration configuration)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddConfiguration(configuration);
        builder.Services.AddWamp();
        return builder.Build();
    }
}
