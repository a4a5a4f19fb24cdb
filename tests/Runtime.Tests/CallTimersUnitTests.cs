using Microsoft.Extensions.Time.Testing;

namespace WampContracts.Tests;

public class CallTimersUnitTests
{
    private sealed class Item(string name, List<string> expired) : ITimed
    {
        long ITimed.TimerDue { get; set; }
        object? ITimed.TimerList { get; set; }
        ITimed? ITimed.TimerPrevious { get; set; }
        ITimed? ITimed.TimerNext { get; set; }
        void ITimed.OnExpired() => expired.Add(name);
    }

    [Fact]
    public void Items_expire_when_due_earliest_first_across_limits_and_cancelled_or_rescheduled_ones_do_not_expire_early()
    {
        var clock = new FakeTimeProvider();
        var expired = new List<string>();
        using var timers = new CallTimers(clock);
        var (a, b, c, d, e, f) = (new Item("a", expired), new Item("b", expired), new Item("c", expired), new Item("d", expired), new Item("e", expired), new Item("f", expired));
        var (short_, long_) = (TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300));

        timers.Schedule(a, long_);
        timers.Schedule(b, short_);
        timers.Schedule(c, long_);
        timers.Schedule(d, short_);
        timers.Schedule(e, short_);
        timers.Schedule(f, short_);
        timers.Cancel(d);                                 // the middle of its list
        timers.Cancel(f);                                 // its tail
        timers.Schedule(e, TimeSpan.FromMilliseconds(500)); // moved to a list of its own

        clock.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Empty(expired);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["b"], expired);
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(["b", "a", "c"], expired);           // same due time: in the order they were scheduled
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(["b", "a", "c", "e"], expired);

        // Every list emptied: scheduling again starts afresh, and a cancelled head leaves the next one due.
        timers.Schedule(a, short_);
        timers.Schedule(b, short_);
        timers.Cancel(a);
        clock.Advance(short_);
        Assert.Equal(["b", "a", "c", "e", "b"], expired);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(5, expired.Count);
    }
}
