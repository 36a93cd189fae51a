using Dashboard.Domain.Images;
using Dashboard.Domain.Policy;

namespace Dashboard.Tests.Policy;

/// <summary>
/// The admission path asks the policy's pattern index which rules' patterns hold instead of trying each rule; the
/// console's path tries every rule and explains it. Over many generated policies and images they must decide the same.
/// </summary>
public sealed class PatternIndexTests
{
    private static readonly string[] Registries = ["docker.io", "quay.io", "registry.corp.example.com", "eu.corp.example.com", "localhost:5000", "ghcr.io"];
    private static readonly string[] Repositories = ["library/nginx", "team-a/api", "team-a/web/frontend", "team-b/worker", "legacy/app-1", "blocked-3/x/y"];
    private static readonly string[] Tags = ["latest", "1.0", "v2.3.1", "dev-3", "dev-31", "stable"];

    [Fact]
    public async Task The_index_decides_as_trying_every_rule_does()
    {
        var random = new Random(20261202);
        var compared = 0;
        for (var round = 0; round < 60; round++)
        {
            var rules = Enumerable.Range(0, random.Next(1, 40)).Select(i => Rule(random, i)).ToList();
            var policy = PolicyValidator.Compile(rules);
            var images = Enumerable.Range(0, 6).Select(_ => new CheckedImage(
                $"{Pick(random, Registries)}/{Pick(random, Repositories)}{(random.Next(4) == 0 ? "@sha256:" + new string('a', 64) : ":" + Pick(random, Tags))}")).ToList();
            var request = new PolicyRequest("shop", PolicyResources.Pods, images);

            var fast = await policy.EvaluateAsync(request, NoFacts.Instance, explain: false);
            var slow = await policy.EvaluateAsync(request, NoFacts.Instance, explain: true);

            Assert.Equal(slow.Allowed, fast.Allowed);
            Assert.Equal(slow.Violations, fast.Violations);
            Assert.Equal(slow.Warnings, fast.Warnings);
            Assert.Equal(slow.Audits, fast.Audits);
            compared += images.Count;
        }

        Assert.Equal(360, compared);
    }

    private static PolicyRule Rule(Random random, int i) => new()
    {
        Name = $"rule-{i}",
        Action = random.Next(4) == 0 ? RuleAction.Allow : RuleAction.Deny,
        Enforcement = (Enforcement)random.Next(3),
        Invert = random.Next(8) == 0,
        Registries = Maybe(random, ["docker.io", "*.corp.example.com", "quay.io", "localhost:*", "**", "ghcr.io", "*.io"]),
        Repositories = Maybe(random, ["library/*", "team-a/**", "team-a/*", "legacy/app-1", "blocked-3/**", "*/worker", "**/frontend"]),
        Tags = Maybe(random, ["latest", "dev-3*", "v*", "1.0", "*"]),
        RequireDigest = random.Next(5) switch { 0 => true, 1 => false, _ => null },
    };

    private static List<string>? Maybe(Random random, string[] choices) =>
        random.Next(3) == 0 ? null : [.. Enumerable.Range(0, random.Next(1, 3)).Select(_ => Pick(random, choices)).Distinct()];

    private static string Pick(Random random, string[] choices) => choices[random.Next(choices.Length)];

    private sealed class NoFacts : IImageFacts
    {
        public static readonly NoFacts Instance = new();

        public ValueTask<ImageFact> LookupAsync(ImageReference reference, string? @namespace, CancellationToken ct) => ValueTask.FromResult(ImageFact.Unknown);

        public void Forget()
        {
        }
    }
}
