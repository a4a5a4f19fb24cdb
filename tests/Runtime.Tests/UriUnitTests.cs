using WampContracts.Protocol;

namespace WampContracts.Tests;

public class UriUnitTests
{
    [Theory]
    [InlineData("com.example.get", true)]
    [InlineData("com.example.get_2", true)]
    [InlineData("com.Example.get", false)]
    [InlineData("com..get", false)]
    [InlineData("com.example.", false)]
    [InlineData("", false)]
    [InlineData("com.exa-mple", false)]
    public void Strict_rule(string uri, bool valid) => Assert.Equal(valid, WampUris.IsValidStrict(uri));

    [Theory]
    [InlineData("com.Example.get-it", true)]
    [InlineData("com..get", false)]
    [InlineData("com.ex ample", false)]
    [InlineData("com.#", false)]
    [InlineData(".com", false)]
    public void Loose_rule(string uri, bool valid) => Assert.Equal(valid, WampUris.IsValidLoose(uri));

    [Fact]
    public void Patterns_allow_empty_components_where_their_match_policy_needs_them()
    {
        Assert.True(WampUris.IsValidLoose("com..get", allowEmptyComponents: true));
        Assert.True(WampUris.IsValidLoose("com.example.", allowEmptyLast: true));
        Assert.False(WampUris.IsValidLoose("com..get", allowEmptyLast: true));
        Assert.True(WampUris.IsValidStrict("com..get", allowEmptyComponents: true));
    }

    [Theory]
    [InlineData("wamp.session.count", true)]
    [InlineData("wamp", true)]
    [InlineData("wampx.thing", false)]
    [InlineData("com.wamp", false)]
    public void The_wamp_prefix_is_reserved(string uri, bool reserved) => Assert.Equal(reserved, WampUris.IsReserved(uri));
}
