using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WampContracts;

/// <summary>JSON conventions of WAMP peers: camelCase names, and binary as <c>"\u0000"</c> + Base64.</summary>
public static class WampJson
{
    /// <summary>
    /// The options reflection-based helpers use: web defaults (camelCase, case-insensitive reading), which is
    /// what JavaScript and Python peers expect, plus the WAMP binary rule for <c>byte[]</c>.
    /// </summary>
    public static JsonSerializerOptions DefaultOptions { get; } = CreateOptions();

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reflection is used only where the app enables it (JsonSerializer.IsReflectionEnabledByDefault); trimmed and AOT apps turn it off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reflection is used only where the app enables it (JsonSerializer.IsReflectionEnabledByDefault); trimmed and AOT apps turn it off.")]
    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new WampBinaryConverter());
        options.Converters.Add(new WampBinaryMemoryConverter());
        options.TypeInfoResolver = JsonSerializer.IsReflectionEnabledByDefault
            ? new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()
            : WampRuntimeJsonContext.Default;
        options.MakeReadOnly();
        return options;
    }

    /// <summary>Decodes WAMP's JSON binary string (or plain Base64) at the reader; for the binary converters.</summary>
    internal static byte[] ReadBinary(ref Utf8JsonReader reader)
    {
        string s = reader.GetString()!;
        if (TryDecodeBinary(s, out var bytes)) return bytes;
        try
        {
            return Convert.FromBase64String(s);
        }
        catch (FormatException e)
        {
            throw new JsonException("expected a WAMP binary string (\\u0000 followed by Base64)", e);
        }
    }

    /// <summary>Encodes bytes as WAMP's JSON binary string: U+0000 followed by standard Base64.</summary>
    public static string EncodeBinary(ReadOnlySpan<byte> bytes) => "\0" + Convert.ToBase64String(bytes);

    /// <summary>Decodes a WAMP JSON binary string; false when <paramref name="value"/> does not start with U+0000.</summary>
    public static bool TryDecodeBinary(string? value, [NotNullWhen(true)] out byte[]? bytes)
    {
        bytes = null;
        if (value is not { Length: > 0 } || value[0] != '\0') return false;
        try
        {
            bytes = Convert.FromBase64String(value[1..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>Reads and writes <c>byte[]</c> as WAMP's JSON binary string (<c>"\u0000"</c> + Base64); plain Base64 is read too.</summary>
public sealed class WampBinaryConverter : JsonConverter<byte[]>
{
    public override byte[]? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : WampJson.ReadBinary(ref reader);

    public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WampJson.EncodeBinary(value));
}

/// <summary>
/// Reads and writes <c>ReadOnlyMemory&lt;byte&gt;</c> as WAMP's JSON binary string (<c>"\u0000"</c> + Base64), which a
/// MessagePack or CBOR connection carries as binary; plain Base64 is read too.
/// </summary>
public sealed class WampBinaryMemoryConverter : JsonConverter<ReadOnlyMemory<byte>>
{
    public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? default : WampJson.ReadBinary(ref reader);

    public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) =>
        writer.WriteStringValue(WampJson.EncodeBinary(value.Span));
}
