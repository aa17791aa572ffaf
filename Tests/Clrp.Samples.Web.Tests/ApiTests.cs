using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Rules;
using Clrp.Samples.Web;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Clrp.Samples.Web.Tests;

/// <summary>POST /explain through WebApplicationFactory: values against the core explainer run directly, and refusals.</summary>
[TestClass]
public sealed class ApiTests
{
    private static WebApplicationFactory<Program> _factory = null!;

    internal static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "samples", name);

    [ClassInitialize]
    public static void Start(TestContext context) => _factory = new WebApplicationFactory<Program>();

    [ClassCleanup]
    public static void Stop() => _factory.Dispose();

    [TestMethod]
    public async Task Explain_AnkleBoot_TopTwoClassesWithFourMapsEach_EqualToTheCore()
    {
        using HttpClient client = _factory.CreateClient();
        using HttpResponseMessage response = await client.PostAsync("/explain?topK=2", Upload(File.ReadAllBytes(Sample("fashion-test-0000-ankle-boot.png"))));
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, await response.Content.ReadAsStringAsync());
        ExplainResponse body = (await response.Content.ReadFromJsonAsync<ExplainResponse>())!;

        // Independent of the app: the core explainer on the same file, preprocessed by the core's image loader.
        BoxBounds bounds = BoxBounds.FromMeanStd([0.2860f], [0.3530f]);
        string model = Path.Combine(AppContext.BaseDirectory, "models", "fashion-vgg.onnx");
        using var core = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = Composites.Paper(bounds), Bounds = bounds });
        Explanation expected = core.Explain(ImageLoader.Load(Sample("fashion-test-0000-ankle-boot.png"), 28, 28, 1, [0.2860f], [0.3530f]).Tensor, Target.TopK(2));

        Assert.AreEqual(2, body.Classes.Count);
        Assert.AreEqual("ankle boot", body.Classes[0].Label);
        for (int i = 0; i < 2; i++)
        {
            ExplainedClass c = body.Classes[i];
            Assert.AreEqual(expected.TargetClassOf(0, i), c.Index);
            Assert.AreEqual(expected.Logits.Row(0)[c.Index], c.Logit, 1e-5f);
            CollectionAssert.AreEquivalent(new[] { "lrp", "clrp1", "clrp2", "sglrp" }, c.Maps.Keys.ToArray());
            foreach (string map in c.Maps.Values)
            {
                AssertPng(map, 28 * 6);
            }
        }

        Assert.AreEqual(1f, body.Classes[0].Probability + body.Classes[1].Probability, 0.05f, "the two top classes hold almost all the probability");
        AssertPng(body.Input, 28 * 6);
    }

    [TestMethod]
    public async Task Explain_NotAnImage_Is400WithTheReason()
    {
        using HttpClient client = _factory.CreateClient();
        using HttpResponseMessage response = await client.PostAsync("/explain", Upload("not a picture"u8.ToArray()));
        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode);
        StringAssert.Contains((await response.Content.ReadFromJsonAsync<ExplainError>())!.Error, "not an image");
    }

    [TestMethod]
    public async Task Explain_NoImageField_Is400()
    {
        using HttpClient client = _factory.CreateClient();
        using HttpResponseMessage response = await client.PostAsync("/explain", new StringContent("x"));
        Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode);
        StringAssert.Contains((await response.Content.ReadFromJsonAsync<ExplainError>())!.Error, "'image'");
    }

    [TestMethod]
    public async Task Explain_OverThePixelBudget_Is413BeforeDecoding()
    {
        // A 4,100 × 4,100 PNG of one colour: small on the wire, 16.8 megapixels decoded.
        using var bitmap = new SkiaSharp.SKBitmap(4100, 4100);
        bitmap.Erase(SkiaSharp.SKColors.White);
        using SkiaSharp.SKData png = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        using HttpClient client = _factory.CreateClient();
        using HttpResponseMessage response = await client.PostAsync("/explain", Upload(png.ToArray()));
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        StringAssert.Contains((await response.Content.ReadFromJsonAsync<ExplainError>())!.Error, "16,810,000 pixels");
    }

    [TestMethod]
    public async Task Explain_OverTheSizeLimit_Is413()
    {
        using HttpClient client = _factory.CreateClient();
        using HttpResponseMessage response = await client.PostAsync("/explain", Upload(new byte[(4 << 20) + 1]));
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [TestMethod]
    public async Task Explain_ConcurrentRequests_ShareTheExplainersAndAgree()
    {
        using HttpClient client = _factory.CreateClient();
        byte[] image = File.ReadAllBytes(Sample("fashion-test-0002-trouser.png"));
        ExplainResponse[] results = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            using HttpResponseMessage r = await client.PostAsync("/explain?topK=1", Upload(image));
            return (await r.Content.ReadFromJsonAsync<ExplainResponse>())!;
        }));
        Assert.IsTrue(results.All(r => r.Classes[0].Label == "trouser"));
        Assert.IsTrue(results.All(r => r.Classes[0].Maps["clrp1"] == results[0].Classes[0].Maps["clrp1"]), "identical maps from every concurrent request");
    }

    internal static MultipartFormDataContent Upload(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return new MultipartFormDataContent { { content, "image", "upload.png" } };
    }

    private static void AssertPng(string dataUrl, int side)
    {
        const string prefix = "data:image/png;base64,";
        StringAssert.StartsWith(dataUrl, prefix);
        using var bitmap = SkiaSharp.SKBitmap.Decode(Convert.FromBase64String(dataUrl[prefix.Length..]));
        Assert.AreEqual((side, side), (bitmap.Width, bitmap.Height));
    }
}
