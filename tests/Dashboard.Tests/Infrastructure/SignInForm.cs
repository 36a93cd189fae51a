using System.Text.RegularExpressions;

namespace Dashboard.Tests.Infrastructure;

/// <summary>Signs in through the sign-in page as a browser does: the form's antiforgery token and cookie, then the POST.</summary>
public static partial class SignInForm
{
    /// <summary>Posts the sign-in form; a success answers 302 with the session cookie.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string userName, string password)
    {
        var page = await client.GetAsync("/account/login");
        var html = await page.Content.ReadAsStringAsync();
        var token = AntiforgeryField().Match(html).Groups["value"].Value;
        Assert.False(string.IsNullOrEmpty(token), "the sign-in form has no antiforgery token");
        var request = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token,
                ["_handler"] = "login",
                ["Input.UserName"] = userName,
                ["Input.Password"] = password,
            }),
        };
        foreach (var cookie in page.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [])
        {
            request.Headers.Add("Cookie", cookie.Split(';')[0]);
        }

        return await client.SendAsync(request);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"(?<value>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
