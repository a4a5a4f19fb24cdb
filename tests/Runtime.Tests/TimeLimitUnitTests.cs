using Microsoft.Extensions.Time.Testing;

namespace WampContracts.Tests;

public class TimeLimitUnitTests
{
    [Theory]
    [InlineData(null, null)]
    [InlineData(0L, null)]
    [InlineData(-5L, null)]
    [InlineData(200L, 200d)]
    [InlineData(5_000_000_000L, 5_000_000_000d)]
    public void A_wire_limit_becomes_a_span_or_none(long? milliseconds, double? expected) =>
        Assert.Equal(expected is null ? null : TimeSpan.FromMilliseconds(expected.Value), TimeLimit.FromWireMilliseconds(milliseconds));

    [Theory]
    [InlineData(1_000_000_000_000_000L)]
    [InlineData(9_007_199_254_740_992L)]
    [InlineData(long.MaxValue)]
    public void A_limit_past_what_a_span_holds_is_the_longest_span(long milliseconds) =>
        Assert.Equal(TimeSpan.MaxValue, TimeLimit.FromWireMilliseconds(milliseconds));

    [Fact]
    public void Due_times_saturate_and_one_arm_holds_at_most_49_7_days()
    {
        var clock = new FakeTimeProvider();
        long now = clock.GetTimestamp();
        Assert.Equal(long.MaxValue, TimeLimit.Due(clock, now, TimeSpan.MaxValue));
        Assert.Equal(TimeLimit.MaxTimerDelay, TimeLimit.TimerDelay(clock, now, TimeLimit.Due(clock, now, TimeSpan.FromDays(60))));
        Assert.Equal(TimeSpan.Zero, TimeLimit.TimerDelay(clock, now, now - 1));
    }

    [Fact]
    public void A_delay_is_exact_to_the_tick_on_a_clock_far_from_zero()
    {
        // Timestamps of a real date do not fit a double exactly: the difference must be taken first.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 0, 0, 0, TimeSpan.Zero));
        long now = clock.GetTimestamp();
        Assert.Equal(TimeSpan.FromMilliseconds(300), TimeLimit.TimerDelay(clock, now, TimeLimit.Due(clock, now, TimeSpan.FromMilliseconds(300))));
    }

    [Fact]
    public void The_wire_form_is_whole_milliseconds_of_at_least_one()
    {
        Assert.Equal(1, TimeLimit.ToWireMilliseconds(TimeSpan.FromTicks(1)));
        Assert.Equal(1500, TimeLimit.ToWireMilliseconds(TimeSpan.FromMilliseconds(1499.2)));
        Assert.Equal(long.MaxValue / TimeSpan.TicksPerMillisecond, TimeLimit.ToWireMilliseconds(TimeSpan.MaxValue));
    }
}
