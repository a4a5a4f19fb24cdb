using System.Globalization;
using System.Text;
using CsCheck;

namespace WampContracts.Testing;

/// <summary>
/// Generators of hostile WAMP frames for fuzz tests: messages of every type in valid and broken shapes (ids of every
/// kind, Details/Options with the keys routers and clients read, odd values, nesting near and past the parser's depth
/// limit, payloads), byte-level mutations of them (flips, truncation, insertion, duplication, invalid UTF-8, NUL
/// bytes, huge strings) and plain garbage. (In a folder of its own: it needs CsCheck, which only the projects that
/// link it reference, and other test projects compile every file directly in tests/Shared.)
/// </summary>
public static class WampFuzz
{
    /// <summary>WAMP's largest id, 2^53.</summary>
    private const long MaxId = 9007199254740992L;

    /// <summary>Draws one value from a generator with a random source of the caller's (a seeded, reproducible stream).</summary>
    public static T Draw<T>(this Gen<T> gen, PCG pcg) => gen.Generate(pcg, null!, out _);

    private static string Inv(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Join(string[] items) => string.Join(", ", items);

    // ---- scalars (static fields initialize in order: each uses only those above it) --------------------------------

    /// <summary>Ids of every kind: small ones (those routers and clients hand out first), any valid one, and invalid ones.</summary>
    public static readonly Gen<string> Id = Gen.Frequency(
        (6, Gen.Long[1, 24].Select(Inv)),
        (3, Gen.Long[1, MaxId].Select(Inv)),
        (2, Gen.OneOf("0", "-1", "9007199254740992", "9007199254740993", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "18446744073709551616", "1.5", "1e3", "1E400", "-0", "0.0", "1e-7", "\"1\"", "null",
            "true", "[]", "{}", "123456789012345678901234567890123456789")));

    private static readonly Gen<string> Number = Gen.Frequency(
        (3, Gen.Long[-1000, 1000].Select(Inv)),
        (2, Gen.Long.Select(Inv)),
        (1, Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "1e308")),
        (1, Gen.OneOf("-0", "1e308", "-1e308", "1e-400", "1E+2", "0.5e-3", "9007199254740993", "99999999999999999999999")));

    /// <summary>Pieces of a JSON string's contents: text, escapes (lone surrogates included) and raw bytes JSON forbids.</summary>
    private static readonly Gen<string> StringPiece = Gen.Frequency(
        (6, Gen.Char.AlphaNumeric.Array[0, 12].Select(a => new string(a))),
        (2, Gen.OneOf("\\u0000", "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\u001f", "\\uD800", "\\uDBFF", "\\uDC00", "\\uDFFF",
            "\\uD83D\\uDE00", "\\uD800\\u0041", "é", "例", "😀", " ", ".", "#", "_", "x_", "\u0001", "\\x", "\\u12", "\\")));

    private static readonly Gen<string> Text = StringPiece.Array[0, 5].Select(p => string.Concat(p));

    /// <summary>A JSON string literal (sometimes a malformed one).</summary>
    public static readonly Gen<string> String = Text.Select(t => "\"" + t + "\"");

    private static readonly string[] Keys =
    [
        "timeout", "match", "invoke", "acknowledge", "exclude", "eligible", "exclude_authid", "eligible_authid",
        "exclude_authrole", "eligible_authrole", "exclude_me", "disclose_me", "disclose_caller", "receive_progress",
        "progress", "mode", "reason", "message", "roles", "agent", "authmethods", "authid", "authrole", "authextra",
        "procedure", "topic", "caller", "caller_authid", "publisher", "publisher_authid", "registration", "subscription",
        "realm", "x_meta", "x_idempotency_key", "x_", "x_\\u0000", "x_\\uD800", "ack\\uD800nowledge", "\\u0061cknowledge",
    ];

    /// <summary>A key of a Details/Options dictionary, as a JSON string literal.</summary>
    public static readonly Gen<string> Key = Gen.Frequency(
        (8, Gen.OneOf(Keys).Select(k => "\"" + k + "\"")),
        (1, String),
        (1, Text.Select(t => "\"x_" + t + "\"")));

    /// <summary>A JSON string of <c>x</c> repeated up to <paramref name="max"/> times.</summary>
    private static Gen<string> Huge(int max) => Gen.Int[1_000, max].Select(n => "\"" + new string('x', n) + "\"");

    private static readonly Gen<string> Scalar = Gen.Frequency(
        (3, Number), (3, String), (1, Gen.OneOf("true", "false", "null")));

    /// <summary>Any JSON value up to <paramref name="depth"/> levels of containers.</summary>
    public static Gen<string> Json(int depth) => depth == 0
        ? Scalar
        : Gen.Frequency(
            (4, Scalar),
            (1, Json(depth - 1).Array[0, 4].Select(a => "[" + Join(a) + "]")),
            (1, Gen.Select(Key, Json(depth - 1), (k, v) => k + ": " + v).Array[0, 4].Select(a => "{" + Join(a) + "}")));

    /// <summary>
    /// A value nested <c>depth</c> levels deep (objects and arrays mixed), with depths around
    /// <c>WampMessageParser.MaxDepth</c> (64) less the levels the message itself takes.
    /// </summary>
    public static readonly Gen<string> Deep = Gen.Select(Gen.Int[56, 72], Gen.Bool, (depth, objects) =>
    {
        var sb = new StringBuilder();
        for (int i = 0; i < depth; i++) sb.Append(objects ? "{\"a\": " : "[");
        sb.Append('1');
        for (int i = 0; i < depth; i++) sb.Append(objects ? '}' : ']');
        return sb.ToString();
    });

    // ---- URIs and dictionaries -----------------------------------------------------------------------------------

    /// <summary>URIs: ones a router has registered or reserves, broken ones, arbitrary strings and non-strings.</summary>
    public static readonly Gen<string> Uri = Gen.Frequency(
        (6, Gen.OneOf("com.example.echo", "com.example.a", "com.example.b", "com.example", "com", "a.b.c", "realm1",
            "wamp.session.list", "wamp.session.get", "wamp.session.count", "wamp.session.on_join", "wamp.session.on_leave",
            "wamp.error.runtime_error", "wamp.error.canceled", "wamp.error.not_authorized", "wamp.close.normal",
            "wamp.close.goodbye_and_out", "wamp.close.system_shutdown", "wamp", "", ".", "..", "com..a", "com.", ".com",
            "com.#", "com. a", "com.\\u0000", "com.\\uD800", "com.例", "COM.Example", "anonymous", "ticket", "wampcra")
            .Select(u => "\"" + u + "\"")),
        (2, String),
        (1, Json(1)));

    private static readonly Gen<string> Bool = Gen.OneOf("true", "false", "null", "1", "0", "\"true\"", "{}", "[]");

    private static readonly Gen<string> Timeout = Gen.Frequency(
        (3, Gen.OneOf("0", "1", "5", "100", "-1", "2.5", "1e15", "1E3", "9223372036854775807", "9223372036854775808",
            "4294967296", "2147483648", "9007199254740993", "\"soon\"", "\"100\"", "null", "true", "[]", "{}", "-0", "0.0",
            "1e-7", "-9223372036854775808", "1e400")),
        (2, Gen.Long[0, 100_000].Select(Inv)),
        (1, Gen.Long.Select(Inv)));

    private static readonly Gen<string> OddList = Gen.Frequency(
        (4, Gen.Frequency((3, Id), (1, String), (1, Json(1))).Array[0, 6].Select(a => "[" + Join(a) + "]")),
        (1, Scalar),
        (1, Deep));

    private static readonly Gen<string> Roles = Gen.Select(
        Gen.OneOf("\"caller\"", "\"callee\"", "\"publisher\"", "\"subscriber\"", "\"dealer\"", "\"broker\"", "\"janitor\"", "\"\""),
        Gen.Frequency(
            (4, Gen.OneOf("{}", "{\"features\": {}}")),
            (3, Gen.Select(Gen.OneOf("\"call_canceling\"", "\"call_timeout\"", "\"progressive_call_results\"", "\"caller_identification\"",
                    "\"shared_registration\"", "\"pattern_based_registration\"", "\"call_cancelling\""), Bool, (k, v) => k + ": " + v)
                .Array[0, 5].Select(f => "{\"features\": {" + Join(f) + "}}")),
            (1, Json(1))),
        (role, value) => role + ": " + value).Array[0, 5].Select(r => "{" + Join(r) + "}");

    private static readonly Dictionary<string, Gen<string>> ValuesByKey = new()
    {
        ["\"timeout\""] = Timeout,
        ["\"match\""] = Gen.OneOf("\"exact\"", "\"prefix\"", "\"wildcard\"", "\"bogus\"", "\"\"", "1", "null", "\"\\uD800\""),
        ["\"invoke\""] = Gen.OneOf("\"single\"", "\"roundrobin\"", "\"random\"", "\"first\"", "\"last\"", "\"bogus\"", "2", "null"),
        ["\"mode\""] = Gen.OneOf("\"skip\"", "\"kill\"", "\"killnowait\"", "\"bogus\"", "null", "0", "\"\\uDC00\""),
        ["\"exclude\""] = OddList,
        ["\"eligible\""] = OddList,
        ["\"exclude_authid\""] = OddList,
        ["\"eligible_authid\""] = OddList,
        ["\"exclude_authrole\""] = OddList,
        ["\"eligible_authrole\""] = OddList,
        ["\"authmethods\""] = OddList,
        ["\"acknowledge\""] = Bool,
        ["\"exclude_me\""] = Bool,
        ["\"disclose_me\""] = Bool,
        ["\"disclose_caller\""] = Bool,
        ["\"receive_progress\""] = Bool,
        ["\"progress\""] = Bool,
        ["\"roles\""] = Roles,
        ["\"registration\""] = Id,
        ["\"subscription\""] = Id,
        ["\"caller\""] = Id,
        ["\"publisher\""] = Id,
        ["\"procedure\""] = Uri,
        ["\"topic\""] = Uri,
    };

    private static readonly Gen<string> AnyValue = Gen.Frequency((8, Json(2)), (1, Deep));

    private static readonly Gen<string> Entry =
        from key in Key
        from value in ValuesByKey.TryGetValue(key, out var gen) ? Gen.Frequency((6, gen), (1, AnyValue)) : AnyValue
        select key + ": " + value;

    /// <summary>A Details/Options dictionary: mostly objects with keys that matter, sometimes another kind of value.</summary>
    public static readonly Gen<string> Dict = Gen.Frequency(
        (12, Entry.Array[0, 6].Select(e => "{" + Join(e) + "}")),
        (1, Gen.OneOf("null", "[]", "1", "\"x\"", "true")),
        (1, Deep.Select(d => "{\"x_deep\": " + d + "}")));

    /// <summary>The <c>x_wampcontracts</c> keyword argument a WampContracts caller adds, with odd values.</summary>
    private static readonly Gen<string> Carrier = Gen.Select(Gen.Frequency((2, String), (1, Json(1))), Timeout,
        (key, timeout) => "\"x_wampcontracts\": {\"idempotency_key\": " + key + ", \"timeout_ms\": " + timeout + "}");

    private static readonly Gen<string> Args = Gen.Frequency(
        (6, AnyValue.Array[0, 4].Select(a => "[" + Join(a) + "]")),
        (1, Gen.OneOf("null", "{}", "1", "\"a\"")));

    private static readonly Gen<string> Kwargs = Gen.Frequency(
        (5, Gen.Select(Key, AnyValue, (k, v) => k + ": " + v).Array[0, 4].Select(a => "{" + Join(a) + "}")),
        (2, Carrier.Select(c => "{" + c + "}")),
        (1, Gen.OneOf("null", "[]", "1")));

    private static readonly Gen<string> ValidId = Gen.Frequency((6, Gen.Long[1, 24].Select(Inv)), (3, Gen.Long[1, MaxId].Select(Inv)));

    private static readonly Gen<string> StringUri = Gen.Frequency((3, Uri.Where(u => u.StartsWith('"'))), (1, String));

    private static readonly Gen<string> ObjectDict = Entry.Array[0, 6].Select(e => "{" + Join(e) + "}");

    private static readonly Gen<string> ValidPayload = Gen.Frequency(
        (2, Gen.Const("")),
        (3, AnyValue.Array[0, 4].Select(a => ", [" + Join(a) + "]")),
        (2, Gen.Select(AnyValue.Array[0, 4], Gen.Frequency(
                (3, Gen.Select(Key, AnyValue, (k, v) => k + ": " + v).Array[0, 4].Select(a => "{" + Join(a) + "}")),
                (1, Carrier.Select(c => "{" + c + "}"))),
            (a, k) => ", [" + Join(a) + "], " + k)));

    /// <summary>The optional tail of a message: nothing, Arguments, Arguments and ArgumentsKw, or one element too many.</summary>
    public static readonly Gen<string> Payload = Gen.Frequency(
        (3, Gen.Const("")),
        (3, Args.Select(a => ", " + a)),
        (3, Gen.Select(Args, Kwargs, (a, k) => ", " + a + ", " + k)),
        (1, Gen.Select(Args, Kwargs, Json(1), (a, k, x) => ", " + a + ", " + k + ", " + x)));

    // ---- messages ------------------------------------------------------------------------------------------------

    // Field kinds: I id, R request type (ERROR), D dict, d optional dict, U URI, P payload.
    private static readonly Dictionary<int, string> Layouts = new()
    {
        [1] = "UD", [2] = "ID", [3] = "DUP", [4] = "UD", [5] = "UD", [6] = "DU", [8] = "RIDUP",
        [16] = "IDUP", [17] = "II", [32] = "IDU", [33] = "II", [34] = "II", [35] = "Id", [36] = "IIDP",
        [48] = "IDUP", [49] = "ID", [50] = "IDP", [64] = "IDU", [65] = "II", [66] = "II", [67] = "Id",
        [68] = "IIDP", [69] = "ID", [70] = "IDP",
    };

    private static readonly Gen<string> RequestType = Gen.Frequency(
        (6, Gen.OneOf("48", "64", "66", "32", "34", "16", "68", "49")),
        (1, Id));

    private static Gen<string> Field(char kind, bool wellFormed) => (kind, wellFormed) switch
    {
        ('I', false) => Id,
        ('I', true) => ValidId,
        ('R', false) => RequestType,
        ('R', true) => Gen.OneOf("48", "64", "66", "32", "34", "16", "68"),
        ('D', false) => Dict,
        ('D', true) => ObjectDict,
        ('d', false) => Gen.Frequency((1, Gen.Const("")), (1, Dict.Select(d => ", " + d))),
        ('d', true) => Gen.Frequency((1, Gen.Const("")), (1, ObjectDict.Select(d => ", " + d))),
        ('U', false) => Uri,
        ('U', true) => StringUri,
        (_, false) => Payload,
        _ => ValidPayload,
    };

    /// <summary>
    /// A message of type <paramref name="type"/>, its fields generated by kind: <paramref name="wellFormed"/>, of the
    /// right kinds (valid ids, string URIs, dictionaries) with odd contents; otherwise of any kind, now and then one
    /// element short or one too many.
    /// </summary>
    private static Gen<string> MessageOf(int type, bool wellFormed)
    {
        string layout = Layouts[type];
        var fields = layout.Select(kind => Field(kind, wellFormed)).ToArray();
        Gen<string[]> all = fields.Aggregate(Gen.Const(Array.Empty<string>()),
            (acc, field) => Gen.Select(acc, field, (a, f) => (string[])[.. a, f]));
        return Gen.Select(all, wellFormed ? Gen.Const(9) : Gen.Int[0, 9], Json(1), (values, shape, extra) =>
        {
            var sb = new StringBuilder().Append('[').Append(type);
            int count = shape == 0 && values.Length > 0 ? values.Length - 1 : values.Length; // one element short
            for (int i = 0; i < count; i++)
            {
                bool tail = layout[i] is 'P' or 'd';
                if (tail) sb.Append(values[i]);
                else sb.Append(", ").Append(values[i]);
            }
            if (shape == 1) sb.Append(", ").Append(extra); // one element too many
            return sb.Append(']').ToString();
        });
    }

    private static readonly Gen<string> UnknownType = Gen.Select(
        Gen.OneOf("0", "7", "9", "99", "-1", "48.0", "1e2", "\"48\"", "null", "2147483648", "[]", "{}"), Payload,
        (type, tail) => "[" + type + ", 1, {}, \"com.example.echo\"" + tail + "]");

    private static int[] Acted(bool toRouter) =>
        toRouter ? [48, 64, 32, 16, 70, 8, 49, 66, 34, 6, 1, 3, 5] : [50, 8, 68, 36, 69, 65, 33, 17, 67, 35, 2, 3, 6, 4];

    /// <summary>
    /// Messages of every type, weighted toward those the receiving side acts on: <paramref name="toRouter"/> for what
    /// a client sends a router, otherwise what a router sends a client.
    /// </summary>
    public static Gen<string> Message(bool toRouter)
    {
        int[] acted = Acted(toRouter);
        var entries = Layouts.Keys.Select(t => (Array.IndexOf(acted, t) >= 0 ? 6 : 1, (IGen<string>)MessageOf(t, wellFormed: false)))
            .Append((3, UnknownType))
            .ToArray();
        return Gen.Frequency(entries);
    }

    /// <summary>
    /// Well-formed messages of the types the receiving side acts on (see <see cref="Message"/>), with odd contents:
    /// they get past the parser to the code that acts on them.
    /// </summary>
    public static Gen<string> Request(bool toRouter) => Gen.Frequency(
        (toRouter ? RequestWeightsToRouter : RequestWeightsToClient)
            .Select(w => (w.Weight, (IGen<string>)MessageOf(w.Type, wellFormed: true))).ToArray());

    // Mostly requests that leave the session open, so a session sees several; now and then one that ends it.
    private static readonly (int Type, int Weight)[] RequestWeightsToRouter =
        [(48, 12), (64, 8), (32, 8), (16, 10), (49, 4), (66, 4), (34, 4), (70, 2), (8, 2), (6, 1), (3, 1), (5, 1)];

    private static readonly (int Type, int Weight)[] RequestWeightsToClient =
        [(50, 12), (8, 10), (68, 10), (36, 10), (69, 4), (65, 4), (33, 4), (17, 4), (67, 4), (35, 4), (3, 1), (6, 1), (4, 1)];

    // ---- byte mutations ------------------------------------------------------------------------------------------

    private static readonly byte[][] Inserts =
    [
        [0x00], [0xFF], [0xC0, 0x80], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFE, 0xFF],
        "\""u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), ","u8.ToArray(),
        ":"u8.ToArray(), "\\"u8.ToArray(), "\\u"u8.ToArray(), "0"u8.ToArray(), "-"u8.ToArray(), "9999999999999999999"u8.ToArray(),
        "null"u8.ToArray(), " "u8.ToArray(), "\n"u8.ToArray(), "\\uD800"u8.ToArray(),
    ];

    /// <summary>One byte-level mutation: its kind, two positions as fractions of the length, a length and a byte.</summary>
    private readonly record struct Mutation(int Kind, double At, double From, int Length, byte Value);

    private static Gen<Mutation> MutationGen(int maxHuge) => Gen.Select(
        Gen.Frequency((160, Gen.Int[0, 8]), (1, Gen.Const(9))), Gen.Double.Unit, Gen.Double.Unit, Gen.Int[1, 16], Gen.Byte,
        (kind, at, from, length, value) => new Mutation(kind, at, from, kind == 9 ? Math.Max(length, 1) * (maxHuge / 16) : length, value));

    private static byte[] Apply(byte[] frame, Mutation[] mutations)
    {
        var bytes = new List<byte>(frame);
        foreach (var m in mutations)
        {
            int at = (int)(m.At * (bytes.Count + 1));
            int from = (int)(m.From * bytes.Count);
            switch (m.Kind)
            {
                case 0 when bytes.Count > 0: // flip one bit
                    bytes[Math.Min(at, bytes.Count - 1)] ^= (byte)(1 << (m.Value & 7));
                    break;
                case 1 when bytes.Count > 0: // overwrite one byte
                    bytes[Math.Min(at, bytes.Count - 1)] = m.Value;
                    break;
                case 2: // truncate
                    bytes.RemoveRange(Math.Min(at, bytes.Count), bytes.Count - Math.Min(at, bytes.Count));
                    break;
                case 3: // insert bytes that mean something to JSON or break UTF-8
                    bytes.InsertRange(Math.Min(at, bytes.Count), Inserts[m.Value % Inserts.Length]);
                    break;
                case 4: // delete a range
                    bytes.RemoveRange(Math.Min(from, bytes.Count), Math.Min(m.Length, bytes.Count - Math.Min(from, bytes.Count)));
                    break;
                case 5: // duplicate a slice
                    int start = Math.Min(from, bytes.Count), length = Math.Min(m.Length * 4, bytes.Count - start);
                    bytes.InsertRange(Math.Min(at, bytes.Count), bytes.GetRange(start, length));
                    break;
                case 6: // NUL bytes
                    bytes.InsertRange(Math.Min(at, bytes.Count), new byte[m.Length]);
                    break;
                case 7 when bytes.Count > 1: // swap two bytes
                    int a = Math.Min(at, bytes.Count - 1);
                    (bytes[a], bytes[from]) = (bytes[from], bytes[a]);
                    break;
                case 8: // a random byte
                    bytes.Insert(Math.Min(at, bytes.Count), m.Value);
                    break;
                case 9: // a huge string
                    bytes.InsertRange(Math.Min(at, bytes.Count), Encoding.ASCII.GetBytes("\"" + new string('x', m.Length) + "\""));
                    break;
            }
        }
        return [.. bytes];
    }

    private static readonly Gen<byte[]> Garbage = Gen.Frequency(
        (2, Gen.Byte.Array[0, 64]),
        (1, Gen.OneOf("", "[", "]", "[]", "{}", "null", "48", "\"[48]\"", "[48", "{\"type\": 48}", "[[48]]", "[48]]", "[ 48 , ]")
            .Select(Encoding.UTF8.GetBytes)),
        (1, Json(2).Select(Encoding.UTF8.GetBytes)));

    /// <summary>
    /// Hostile frames: well-formed messages with odd contents (<see cref="Request"/>), messages of any shape
    /// (<see cref="Message"/>), byte-level mutations of both, messages carrying a huge string (up to
    /// <paramref name="maxHuge"/> bytes; some pass it) and garbage.
    /// </summary>
    public static Gen<byte[]> Frames(bool toRouter, int maxHuge)
    {
        var request = Request(toRouter).Select(Encoding.UTF8.GetBytes);
        var bytes = Message(toRouter).Select(Encoding.UTF8.GetBytes);
        var mutated = Gen.Select(Gen.Frequency((1, request), (1, bytes)), MutationGen(maxHuge).Array[1, 4], Apply);
        var huge = Gen.Select(Gen.OneOf("[48, 1, {}, \"com.example.echo\", [HUGE]]", "[16, 1, {\"acknowledge\": true}, \"com.example.a\", [HUGE]]",
                "[70, 1, {}, [HUGE]]", "[64, 1, {\"x_k\": HUGE}, \"com.example.h\"]", "[50, 1, {}, [HUGE]]", "[HUGE]", "[48, 1, {}, HUGE]"),
            Huge(maxHuge + maxHuge / 16), (template, s) => Encoding.UTF8.GetBytes(template.Replace("HUGE", s)));
        return Gen.Frequency((55, request), (15, bytes), (22, mutated), (5, Garbage), (1, huge));
    }
}
