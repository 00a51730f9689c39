namespace Resilience.Http.Tests.Authorities;

public sealed class HttpAuthorityTests
{
    [Theory]
    [InlineData("http://api.test/items?q=1", "http://api.test:80")]
    [InlineData("https://api.test/items", "https://api.test:443")]
    [InlineData("https://API.Test:8443/x#frag", "https://api.test:8443")]
    [InlineData("https://user:secret@api.test/x", "https://api.test:443")]
    [InlineData("http://127.0.0.1:5000/", "http://127.0.0.1:5000")]
    [InlineData("http://[::1]:5000/", "http://[::1]:5000")]
    [InlineData("https://bücher.example/", "https://xn--bcher-kva.example:443")]
    public void From_Uri_SchemeHostPortOnly(string uri, string expected) =>
        Assert.Equal(expected, HttpAuthority.From(new Uri(uri)).ToString());

    [Fact]
    public void Equals_DifferentPathsAndCase_SameAuthority()
    {
        var a = HttpAuthority.From(new Uri("https://API.test/a?x=1"));
        var b = HttpAuthority.From(new Uri("https://api.test:443/b"));

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, HttpAuthority.From(new Uri("http://api.test/")));
        Assert.NotEqual(a, HttpAuthority.From(new Uri("https://api.test:8443/")));
    }

    [Fact]
    public void From_RelativeUri_Throws() =>
        Assert.Throws<ArgumentException>("uri", () => HttpAuthority.From(new Uri("/relative", UriKind.Relative)));

    [Theory]
    [InlineData("https://user:pw@api.test/v1/items?api_key=secret#top", "https://api.test:443/v1/items")]
    [InlineData("http://api.test", "http://api.test:80/")]
    [InlineData("http://[::1]:8080/x?y", "http://[::1]:8080/x")]
    public void Render_AbsoluteUri_NoUserInfoQueryOrFragment(string uri, string expected) =>
        Assert.Equal(expected, LogSafeUri.Render(new Uri(uri)));

    [Fact]
    public void Render_RelativeUriAndNull_PathOnly()
    {
        Assert.Equal("/v1/items", LogSafeUri.Render(new Uri("/v1/items?token=abc", UriKind.Relative)));
        Assert.Equal("(none)", LogSafeUri.Render(null));
    }
}
