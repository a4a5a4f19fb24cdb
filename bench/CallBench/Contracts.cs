using System.Text.Json.Serialization;
using WampContracts;

namespace WampContracts.Bench;

public sealed record Nested([property: JsonPropertyName("nested")] int[] Values);

/// <summary>The matrix's echo (<c>["hello",42,{"nested":[1,2,3]}]</c>) as a contract; the result is the first argument back.</summary>
[WampService("com.example")]
public interface IEcho
{
    Task<string> Echo(string text, int number, Nested nested);
}

[JsonSerializable(typeof(Nested))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
internal sealed partial class BenchJsonContext : JsonSerializerContext
{
}
