using Clrp.Onnx;
using Clrp.Samples.Web;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// Upload an image and see its top-k classes with LRP / CLRP1 / CLRP2 / SGLRP heatmaps side by side.
// Run from the repository root: dotnet run --project Samples/Clrp.Samples.Web -c Release   (then open http://localhost:5000)
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.Configure<WebExplainerSettings>(builder.Configuration.GetSection("Explainer"));
builder.Services.AddSingleton<ExplainService>();
long maxUpload = builder.Configuration.GetSection("Explainer").Get<WebExplainerSettings>()?.MaxUploadBytes ?? new WebExplainerSettings().MaxUploadBytes;
builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = maxUpload);
builder.Services.Configure<FormOptions>(o => o.MultipartBodyLengthLimit = maxUpload);

WebApplication app = builder.Build();
app.UseDefaultFiles();
app.UseStaticFiles();

// POST /explain (multipart/form-data, field "image"; query ?topK=2): JSON with the classes and PNG data URLs.
app.MapPost("/explain", async (HttpRequest request, ExplainService service, int? topK) =>
{
    if (request.ContentLength > service.Settings.MaxUploadBytes)
    {
        return Results.Json(new ExplainError($"the upload is {request.ContentLength:N0} bytes; the limit is {service.Settings.MaxUploadBytes:N0}."), statusCode: StatusCodes.Status413PayloadTooLarge);
    }

    IFormFile? file;
    try
    {
        file = request.HasFormContentType ? (await request.ReadFormAsync()).Files.GetFile("image") : null;
    }
    catch (Exception e) when (e is InvalidDataException or Microsoft.AspNetCore.Http.BadHttpRequestException)
    {
        return Results.Json(new ExplainError($"the upload was refused: {e.Message}"), statusCode: StatusCodes.Status413PayloadTooLarge);
    }

    if (file is null)
    {
        return Results.BadRequest(new ExplainError("send the image as multipart/form-data in a field named 'image'."));
    }

    using var buffer = new MemoryStream();
    await file.CopyToAsync(buffer);
    try
    {
        return Results.Ok(service.Explain(buffer.ToArray(), topK ?? 2));
    }
    catch (ResourceLimitException e)
    {
        return Results.Json(new ExplainError(e.Message), statusCode: StatusCodes.Status413PayloadTooLarge);
    }
    catch (ClrpException e)
    {
        return Results.BadRequest(new ExplainError(e.Message));
    }
}).DisableAntiforgery();

app.MapGet("/model", (ExplainService service) => Results.Ok(new { model = Path.GetFileName(service.ModelPath), labels = service.Settings.Labels, methods = ExplainService.Methods.Select(m => m.Name) }));

app.Run();

/// <summary>The app's entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
