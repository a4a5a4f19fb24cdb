using System.Runtime.InteropServices;
using Microsoft.Extensions.Time.Testing;
using WampContracts.Hosting;

namespace WampContracts.Router.Tests;

/// <summary>How a process that hosts the router stops: who takes the signals, and how long the shutdown may take.</summary>
public class HostingTests
{
    [Fact]
    public async Task An_embedded_router_leaves_process_signals_to_the_application()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        // The application's own handler (which keeps the test process alive); a router that took the signal too (a
        // host's default ConsoleLifetime registers for SIGINT, SIGQUIT and SIGTERM) would stop serving when it arrives.
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (PosixSignalRegistration.Create(PosixSignal.SIGQUIT, context =>
        {
            context.Cancel = true;
            received.TrySetResult();
        }))
        {
            Assert.Equal(0, Kill(Environment.ProcessId, 3 /* SIGQUIT */));
            await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        await using var session = await WampSession.ConnectAsync(router.Url!, "realm1").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(session.IsConnected);
        Assert.Equal(1, router.SessionCount);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [Fact]
    public async Task A_shutdown_that_finishes_in_time_is_reported_as_finished()
    {
        int ran = 0;
        Assert.True(await ShutdownSignal.CompletesWithinAsync(() => { ran++; return ValueTask.CompletedTask; }, TimeSpan.FromSeconds(10), new FakeTimeProvider()));
        Assert.Equal(1, ran);
    }

    [Fact]
    public async Task A_shutdown_still_running_at_the_bound_is_left_behind_then_and_not_before()
    {
        var time = new FakeTimeProvider();
        var never = new TaskCompletionSource();
        var waiting = ShutdownSignal.CompletesWithinAsync(() => new ValueTask(never.Task), TimeSpan.FromSeconds(10), time);
        time.Advance(TimeSpan.FromSeconds(9.999));
        Assert.False(waiting.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_shutdown_that_fails_fails_the_wait_with_its_error()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ShutdownSignal.CompletesWithinAsync(() => throw new InvalidOperationException("listener stuck"), TimeSpan.FromSeconds(10), new FakeTimeProvider()));
        Assert.Equal("listener stuck", e.Message);
    }

    [Theory]
    [InlineData("10", 10_000)]
    [InlineData("0.25", 250)]
    [InlineData("86400", 86_400_000)]
    public void Shutdown_timeouts_are_positive_seconds(string text, int milliseconds)
    {
        Assert.True(ShutdownSignal.TryParseTimeout(text, out var timeout));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), timeout);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("86401")]
    [InlineData("NaN")]
    [InlineData("ten")]
    [InlineData("")]
    public void Other_shutdown_timeouts_are_refused(string text) => Assert.False(ShutdownSignal.TryParseTimeout(text, out _));
}
