using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace WampContracts.Tests;

/// <summary>
/// What generated code registers besides proxies: the project's JSON contexts, which the default options consult first,
/// and how [WampError] exceptions write their data.
/// </summary>
public class ContractJsonUnitTests
{
    public sealed record Seat(string Row, int Number);

    private sealed class SeatError(string uri, string row) : WampException(uri, $"seat {row} taken")
    {
        public string Row { get; } = row;
    }

    private sealed class BrokenError(string uri) : WampException(uri, "broken");

    /// <summary>Answers for one type only, and counts the questions.</summary>
    private sealed class OneTypeResolver(Type type) : IJsonTypeInfoResolver
    {
        public int Asked;

        public JsonTypeInfo? GetTypeInfo(Type t, JsonSerializerOptions options)
        {
            if (t != type) return null;
            Interlocked.Increment(ref Asked);
            var info = JsonTypeInfo.CreateJsonTypeInfo<Seat>(options);
            info.CreateObject = () => new Seat("from-context", 0);
            return info;
        }
    }

    [Fact]
    public void A_registered_context_answers_before_the_fallback_and_others_fall_through()
    {
        var context = new OneTypeResolver(typeof(Seat));
        WampContractRegistry.RegisterJsonContext(context);
        var resolver = new WampTypeInfoResolver(new DefaultJsonTypeInfoResolver());
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);

        var seat = resolver.GetTypeInfo(typeof(Seat), options);
        Assert.NotNull(seat);
        Assert.Equal(1, context.Asked);
        Assert.Equal("from-context", ((Seat)seat!.CreateObject!()).Row);
        Assert.NotNull(resolver.GetTypeInfo(typeof(Guid), options)); // not the context's: the fallback's
        Assert.Equal(1, context.Asked);
    }

    [Fact]
    public void A_registered_error_writes_its_properties_after_the_message_it_was_given()
    {
        const string Uri = "com.example.test.seat_taken";
        WampContractRegistry.RegisterError<SeatError>(Uri, static e => e,
            static e => new WampPayloadBuilder().AddKeywordArgument("row", e.Row, WampContractRuntime.TypeInfo<string>()).Build());

        var error = new SeatError(Uri, "F");
        Assert.Equal("seat F taken", error.Args[0].GetString());
        Assert.Equal("F", error.Kwargs.GetProperty("row").GetString());
        Assert.Equal("F", WampContractRuntime.ErrorData(error, "row", WampContractRuntime.TypeInfo<string>()));
        Assert.Null(WampContractRuntime.ErrorData(error, "seat", WampContractRuntime.TypeInfo<string>()));
    }

    [Fact]
    public void An_error_whose_data_cannot_be_written_still_travels_with_its_message()
    {
        const string Uri = "com.example.test.broken";
        WampContractRegistry.RegisterError<BrokenError>(Uri, static e => e, static _ => throw new NotSupportedException("no metadata"));

        var error = new BrokenError(Uri);
        Assert.Equal("broken", error.Args[0].GetString());
        Assert.False(error.Payload.HasKeywordArguments);
    }
}
