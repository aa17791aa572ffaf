using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;

namespace Clrp.Samples.Web.Tests;

/// <summary>
/// The page in a real browser: Debian's chromium (<c>apt-get install chromium</c>, done by .ci/run) driven by Playwright
/// for .NET through its executable path, against the app on Kestrel. Upload, click, and read the table of heatmaps.
/// </summary>
[TestClass]
public sealed class BrowserTests
{
    /// <summary>Debian's chromium; CHROMIUM_PATH overrides it.</summary>
    private static string Chromium => Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";

    [TestMethod]
    public async Task UploadAndExplain_ShowsTopTwoClassesWithFourHeatmapsEach()
    {
        Assert.IsTrue(File.Exists(Chromium), $"{Chromium} missing: install Debian's chromium (apt-get install chromium), as .ci/run does, or set CHROMIUM_PATH.");
        using var factory = new WebApplicationFactory<Program>();
        factory.UseKestrel(0);
        factory.StartServer();
        string address = factory.ClientOptions.BaseAddress.ToString().TrimEnd('/');

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        IPage page = await browser.NewPageAsync();
        await page.GotoAsync(address + "/");
        await Assertions.Expect(page.Locator("#model")).ToHaveTextAsync("fashion-vgg.onnx");
        await page.Locator("#image").SetInputFilesAsync(ApiTests.Sample("fashion-test-0000-ankle-boot.png"));
        await page.Locator("#explain").ClickAsync();

        ILocator rows = page.Locator("#maps tr.class-row");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(rows.First.Locator("td.label")).ToContainTextAsync("ankle boot");
        await Assertions.Expect(page.Locator("#maps img.heatmap")).ToHaveCountAsync(8);
        foreach (string method in new[] { "lrp", "clrp1", "clrp2", "sglrp" })
        {
            // Every heatmap decoded by the browser at the size the app drew it.
            int width = await page.Locator($"#maps img.{method}").First.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : 0");
            Assert.AreEqual(168, width, method);
        }

        await page.Locator("#image").SetInputFilesAsync(new FilePayload { Name = "bad.png", MimeType = "image/png", Buffer = "not a picture"u8.ToArray() });
        await page.Locator("#explain").ClickAsync();
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("not an image");
    }
}
