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

    [Fact]
    public void A_limit_used_again_and_again_keeps_its_list_while_one_off_limits_and_lists_past_the_bound_are_dropped()
    {
        var clock = new FakeTimeProvider();
        var expired = new List<string>();
        using var timers = new CallTimers(clock);
        var limit = TimeSpan.FromSeconds(30);

        // Calls answered one after the other: each empties the list of the session's default limit.
        for (int i = 0; i < 100; i++)
        {
            var call = new Item("call" + i, expired);
            timers.Schedule(call, limit);
            timers.Cancel(call);
        }
        Assert.Equal(1, timers.ListCount);

        // The kept list still expires what comes next, when it is due and not before.
        var late = new Item("late", expired);
        timers.Schedule(late, limit);
        clock.Advance(limit - TimeSpan.FromTicks(1));
        Assert.Empty(expired);
        clock.Advance(TimeSpan.FromTicks(1));
        Assert.Equal(["late"], expired);
        Assert.Equal(1, timers.ListCount);

        // Limits cut short by deadlines are each used once: their lists go as they empty.
        for (int i = 1; i <= 1_000; i++)
        {
            var call = new Item("deadline" + i, expired);
            timers.Schedule(call, TimeSpan.FromMilliseconds(i));
            timers.Cancel(call);
        }
        Assert.Equal(1, timers.ListCount);

        // Many limits used more than once: only a few empty lists stay.
        for (int i = 1; i <= 50; i++)
        {
            var (first, second) = (new Item("a" + i, expired), new Item("b" + i, expired));
            timers.Schedule(first, TimeSpan.FromSeconds(i));
            timers.Schedule(second, TimeSpan.FromSeconds(i));
            timers.Cancel(first);
            timers.Cancel(second);
        }
        Assert.InRange(timers.ListCount, 1, 8);
        Assert.Equal(["late"], expired);
    }
}
