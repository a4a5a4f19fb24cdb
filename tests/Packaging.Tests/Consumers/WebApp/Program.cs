using Conferences;
using WampContracts.Hosting;

// An existing ASP.NET Core app: the router at /ws, the conferences callee resolved from DI, the proxy injected
// into an endpoint, and the session's health at /health.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddWamp()
    .AddWampCallee<IConferences, ConferenceService>()
    .AddWampPublisher<IConferenceEvents>()
    .AddWampProxy<IConferences>();
builder.Services.AddHealthChecks().AddWampHealthCheck();

var app = builder.Build();
app.MapWampRouter("/ws");
app.MapHealthChecks("/health");
app.MapGet("/conferences/{id:int}", async (int id, IConferences conferences, CancellationToken cancellationToken) =>
{
    var conference = await conferences.Get(id, cancellationToken);
    return $"{conference.Name}, {conference.Where}";
});

app.Lifetime.ApplicationStarted.Register(() => _ = ReportReadyAsync(app));
app.Run();

static async Task ReportReadyAsync(WebApplication app)
{
    try
    {
        await app.Services.GetRequiredService<WampHostedSession>().WaitUntilReadyAsync(app.Lifetime.ApplicationStopping);
        Console.WriteLine("wamp ready");
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"wamp not ready: {e.Message}");
    }
}
