namespace WampContracts.Tests;

/// <summary>A descriptor's idempotency level, given directly or by the older <c>idempotent</c> flag.</summary>
public class WampMethodDescriptorUnitTests
{
    [Fact]
    public void The_idempotent_flag_still_means_keyed_and_deduplicated()
    {
        var idempotent = new WampMethodDescriptor("S", "Put", "com.example.s.put", 0, idempotent: true);
        var plain = new WampMethodDescriptor("S", "Post", "com.example.s.post");
        Assert.Equal(WampIdempotencyLevel.Idempotent, idempotent.IdempotencyLevel);
        Assert.True(idempotent.Idempotent);
        Assert.Equal(WampIdempotencyLevel.Unknown, plain.IdempotencyLevel);
        Assert.False(plain.Idempotent);
    }

    [Fact]
    public void A_method_without_side_effects_is_not_idempotent_in_the_deduplicating_sense()
    {
        var read = new WampMethodDescriptor("S", "Get", "com.example.s.get", 500, WampIdempotencyLevel.NoSideEffects, retryAttempts: 4);
        Assert.Equal(WampIdempotencyLevel.NoSideEffects, read.IdempotencyLevel);
        Assert.False(read.Idempotent);
        Assert.Equal(-1, read.IdempotencyKeyParameter);
        Assert.Equal(4, read.RetryAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(500), read.Timeout);
    }

    [Fact]
    public void No_side_effects_with_a_key_parameter_or_an_undefined_level_is_refused()
    {
        var keyed = Assert.Throws<ArgumentException>(() => new WampMethodDescriptor("S", "Get", "com.example.s.get", 0, WampIdempotencyLevel.NoSideEffects, idempotencyKeyParameter: 1));
        Assert.Equal("idempotencyKeyParameter", keyed.ParamName);
        Assert.Contains("'Get'", keyed.Message);
        var undefined = Assert.Throws<ArgumentOutOfRangeException>(() => new WampMethodDescriptor("S", "Get", "com.example.s.get", 0, (WampIdempotencyLevel)7));
        Assert.Equal("idempotencyLevel", undefined.ParamName);
    }
}
