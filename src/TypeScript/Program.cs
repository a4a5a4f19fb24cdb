using System.Text;
using WampContracts.TypeScript;

// Writes the TypeScript peers carried by a compiled assembly into a folder.
// Usage: WampContracts.TypeScript <assembly.dll> <output folder>
// A file whose content is unchanged is not rewritten, so its timestamp (and what depends on it) stays as it was.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: WampContracts.TypeScript <assembly.dll> <output folder>");
    return 2;
}
string assembly = args[0], output = args[1];
IReadOnlyList<KeyValuePair<string, string>>? files;
try
{
    using var stream = File.OpenRead(assembly);
    files = TypeScriptFiles.Read(stream);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or BadImageFormatException)
{
    Console.Error.WriteLine($"error WAMPTS01: cannot read the TypeScript peers of '{assembly}': {e.Message}");
    return 1;
}
if (files is null)
{
    Console.Error.WriteLine($"error WAMPTS02: '{assembly}' carries no TypeScript peers: reference WampContracts.Generator as an analyzer and set WampTypeScriptOutput before importing WampContracts.TypeScript.targets.");
    return 1;
}

Directory.CreateDirectory(output);
var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
int written = 0;
foreach (var (name, text) in files)
{
    string path = Path.Combine(output, name);
    if (File.Exists(path) && File.ReadAllText(path, utf8) == text) continue;
    File.WriteAllText(path, text, utf8);
    written++;
}
Console.WriteLine($"WampContracts: {files.Count} TypeScript file(s) in {output} ({written} written)");
return 0;
