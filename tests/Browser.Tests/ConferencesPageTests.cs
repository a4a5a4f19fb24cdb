using Conferences;
using Microsoft.Playwright;
using WampContracts;

namespace WampContracts.Browser.Tests;

/// <summary>
/// The conferences page in a real browser (Debian's headless Chromium, driven by Playwright), on the TypeScript client
/// generated from the contract: the RPC result is rendered, a published update appears without a reload, and a typed
/// error arrives as its generated class.
/// </summary>
public sealed class ConferencesPageTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly float Bound = 20_000;
    private ConferencesApp _app = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium (test.sh does).");
        _app = await ConferencesApp.StartAsync();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_page_renders_the_conference_from_the_rpc_shows_live_updates_and_readable_errors()
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 900, Height = 900 } });
        await page.GotoAsync(_app.PageUrl.ToString());

        // The result of com.example.conferences.get(123), rendered.
        var conference = page.Locator("#conference");
        await Assertions.Expect(conference.Locator(".name")).ToHaveTextAsync("deSymfony", new() { Timeout = Bound });
        await Assertions.Expect(conference.Locator(".where")).ToHaveTextAsync("Madrid", new() { Timeout = Bound });
        await Assertions.Expect(page.Locator("#list li")).ToHaveCountAsync(3, new() { Timeout = Bound });
        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("listening for updates", new() { Timeout = Bound });

        // The service changes the conference and publishes it: the page shows it without a reload.
        await using (var session = await WampSession.ConnectAsync(_app.RouterUrl, ConferencesApp.Realm, ConferencesApp.SessionOptions()))
            await session.GetProxy<IConferences>().Update(123, "Madrid, Palacio de Congresos");
        await Assertions.Expect(page.Locator("#updates li")).ToContainTextAsync(["deSymfony — Madrid, Palacio de Congresos"], new() { Timeout = Bound });
        await Assertions.Expect(conference.Locator(".where")).ToHaveTextAsync("Madrid, Palacio de Congresos", new() { Timeout = Bound });

        // A typed error reads as a message; the page's generated client threw the contract's error class.
        await page.ClickAsync("#lookup");
        await Assertions.Expect(page.Locator("#lookup-result")).ToHaveTextAsync("com.example.error.not_found: conference 999 not found", new() { Timeout = Bound });
        await Assertions.Expect(page.Locator("#lookup-result")).ToHaveAttributeAsync("data-error-type", "ConferenceNotFound", new() { Timeout = Bound });

        string screenshot = Path.Combine(AppContext.BaseDirectory, "artifacts", "conferences-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is empty");
        Console.WriteLine($"screenshot: {screenshot}");
    }
}
