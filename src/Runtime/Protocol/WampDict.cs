using System.Text;
using System.Text.Json;

namespace WampContracts.Protocol;

/// <summary>
/// A WAMP Details/Options dictionary kept as raw UTF-8 JSON. Look-ups scan it with <see cref="Utf8JsonReader"/>;
/// these dictionaries are small, so a scan is cheaper than building a DOM. Unknown keys are ignored.
/// </summary>
public readonly struct WampDict
{
    private static readonly byte[] EmptyJson = "{}"u8.ToArray();

    private readonly ReadOnlyMemory<byte> _json;

    public WampDict(ReadOnlyMemory<byte> json) => _json = json;

    public static WampDict Empty => default;

    /// <summary>The dictionary as JSON text (<c>{}</c> when empty).</summary>
    public ReadOnlyMemory<byte> Json => _json.IsEmpty ? EmptyJson : _json;

    public bool IsEmpty => _json.IsEmpty;

    /// <summary>Finds <paramref name="key"/> among the top-level keys and positions <paramref name="reader"/> on its value.</summary>
    public bool TryFind(ReadOnlySpan<byte> key, out Utf8JsonReader reader)
    {
        reader = default;
        if (_json.IsEmpty) return false;
        reader = new Utf8JsonReader(_json.Span, WampMessageParser.ReaderOptions);
        reader.Read(); // {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool match = reader.ValueTextEquals(key);
            reader.Read();
            if (match) return true;
            reader.Skip();
        }
        return false;
    }

    public bool GetBool(ReadOnlySpan<byte> key, bool defaultValue = false) =>
        TryFind(key, out var r) ? r.TokenType switch { JsonTokenType.True => true, JsonTokenType.False => false, _ => defaultValue } : defaultValue;

    public long? GetInt64(ReadOnlySpan<byte> key) =>
        TryFind(key, out var r) && r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long v) ? v : null;

    public string? GetString(ReadOnlySpan<byte> key) =>
        TryFind(key, out var r) && r.TokenType == JsonTokenType.String ? r.GetString() : null;

    /// <summary>The raw JSON of a value, or empty when the key is absent.</summary>
    public ReadOnlyMemory<byte> GetRaw(ReadOnlySpan<byte> key)
    {
        if (!TryFind(key, out var r)) return default;
        int start = (int)r.TokenStartIndex;
        r.Skip();
        return _json.Slice(start, (int)r.BytesConsumed - start);
    }

    /// <summary>The dictionary under <paramref name="key"/> (empty when absent), e.g. <c>roles</c> → <c>dealer</c> → <c>features</c>.</summary>
    public WampDict GetDict(ReadOnlySpan<byte> key) => new(GetRaw(key));

    /// <summary>Calls <paramref name="visit"/> for every top-level key with the raw JSON of its value.</summary>
    internal void ForEach<TState>(TState state, WampDictVisitor<TState> visit)
    {
        if (_json.IsEmpty) return;
        var reader = new Utf8JsonReader(_json.Span, WampMessageParser.ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string name = reader.GetString()!;
            reader.Read();
            int start = (int)reader.TokenStartIndex;
            reader.Skip();
            visit(state, name, _json.Slice(start, (int)reader.BytesConsumed - start));
        }
    }

    /// <summary>
    /// Writes every top-level entry whose key starts with <c>x_</c> (the custom options WAMP passes on untouched) to
    /// <paramref name="writer"/>, value byte for byte; allocates nothing for keys written without escapes.
    /// </summary>
    internal void WriteCustomOptions(Utf8JsonWriter writer)
    {
        if (_json.IsEmpty) return;
        var reader = new Utf8JsonReader(_json.Span, WampMessageParser.ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool custom;
            string? escaped = null;
            if (!reader.ValueIsEscaped) custom = reader.ValueSpan.StartsWith("x_"u8);
            else custom = (escaped = reader.GetString()!).StartsWith("x_", StringComparison.Ordinal);
            ReadOnlySpan<byte> key = reader.ValueSpan;
            reader.Read();
            int start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (!custom) continue;
            if (escaped is null) writer.WritePropertyName(key);
            else writer.WritePropertyName(escaped);
            writer.WriteRawValue(_json.Span[start..(int)reader.BytesConsumed], skipInputValidation: true);
        }
    }

    /// <summary>Parses the dictionary into a <see cref="JsonElement"/> (allocates; for diagnostics and rare keys).</summary>
    public JsonElement ToJsonElement()
    {
        using var doc = JsonDocument.Parse(Json, new JsonDocumentOptions { MaxDepth = WampMessageParser.MaxDepth });
        return doc.RootElement.Clone();
    }

    public override string ToString() => Encoding.UTF8.GetString(Json.Span);
}

internal delegate void WampDictVisitor<TState>(TState state, string key, ReadOnlyMemory<byte> rawValue);
