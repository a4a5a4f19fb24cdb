using Conferences;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The IConferences proxy comes from DI; with --Callee=true this app also serves the contract, ConferenceService
// resolved from a DI scope per invocation. The router's URL and realm come from the configuration (section Wamp).
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddWamp();
builder.Services.AddWampProxy<IConferences>();
if (builder.Configuration["Callee"] == "true")
    builder.Services.AddWampCallee<IConferences, ConferenceService>().AddWampPublisher<IConferenceEvents>();

using var host = builder.Build();
await host.StartAsync();
var conferences = host.Services.GetRequiredService<IConferences>();
var conference = await conferences.Get(123);
Console.WriteLine($"await conferences.Get(123) -> {conference.Name}, {conference.Where}");
await host.StopAsync();
