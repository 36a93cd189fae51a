using Dashboard.Domain;
using Dashboard.Domain.Policy;

namespace Dashboard.Tests.Policy;

/// <summary>Reading a release (what <c>helm template</c> or <c>kubectl kustomize</c> prints) into Kubernetes objects.</summary>
public sealed class ManifestReaderTests
{
    private static string Refusal(string text) =>
        string.Join(" ", Assert.Throws<ValidationFailedException>(() => ManifestReader.Read(text, "body")).Errors["body"]);

    [Fact]
    public void Documents_become_objects_in_order_skipping_empty_ones_and_a_list_stands_for_its_items()
    {
        var objects = ManifestReader.Read("""
            # Source: shop/templates/empty.yaml
            ---
            # Source: shop/templates/config.yaml
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
              namespace: shop
            data:
              replicas: 3
            ---
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Pod
              metadata: {name: one}
              spec: {containers: [{name: app, image: "nginx:1.27"}]}
            - {apiVersion: v1, kind: Service, metadata: {name: web}}
            """, "body");

        Assert.Equal([("ConfigMap", "settings", "shop"), ("Pod", "one", null), ("Service", "web", null)],
            objects.Select(o => (o.Kind, o.Name, o.Namespace)).ToArray());
        Assert.Equal("Document 3 (line 13), item 1", objects[1].Where);
        Assert.Equal("nginx:1.27", WorkloadImages.Of(objects[1].Kind, objects[1].Object).Images.Single().Reference);
    }

    [Fact]
    public void Text_that_is_not_yaml_is_refused_naming_the_document_and_line()
    {
        var said = Refusal("""
            kind: ConfigMap
            metadata: {name: a}
            ---
            kind: Deployment
            metadata:
              name: web
               labels: {app: web}
            """);

        Assert.StartsWith("Document 2 is not YAML (line 7, column", said);
    }

    [Theory]
    [InlineData("kind: ConfigMap\n---\nmetadata: {name: a}\n", "Document 2 (line 3) has no 'kind'.")]
    [InlineData("just a sentence\n", "Document 1 (line 1) is not a mapping")]
    [InlineData("kind: Pod\nkind: Pod\n", "Document 1 (line 2): the key 'kind' appears twice.")]
    [InlineData("kind: List\nitems: [{kind: Pod}, {metadata: {}}]\n", "Document 1 (line 1), item 2 has no 'kind'.")]
    public void A_document_that_is_not_an_object_is_refused_naming_it(string text, string says) =>
        Assert.Contains(says, Refusal(text));

    [Fact]
    public void More_documents_than_the_bound_are_refused()
    {
        var text = string.Concat(Enumerable.Repeat("kind: ConfigMap\n---\n", ManifestReader.MaxDocuments + 1));

        Assert.Equal($"More than {ManifestReader.MaxDocuments} documents: evaluate a release in parts.", Refusal(text));
    }

    [Fact]
    public void Aliases_that_would_expand_a_small_text_into_a_huge_one_are_refused()
    {
        // The "billion laughs": nine levels of ten aliases each.
        var bomb = "kind: ConfigMap\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
            + string.Concat(Enumerable.Range(0, 8).Select(i =>
                $"{(char)('b' + i)}: &{(char)('b' + i)} [{string.Join(",", Enumerable.Repeat($"*{(char)('a' + i)}", 9))}]\n"));

        Assert.Contains("too many aliases: at most 100, expanding to at most 10000 nodes in all.", Refusal(bomb));
    }

    [Fact]
    public void A_few_aliases_are_read_as_the_anchored_value()
    {
        var pod = Assert.Single(ManifestReader.Read("""
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - &app {name: app, image: "quay.io/team/app:1"}
              initContainers:
              - *app
            """, "body"));

        Assert.Equal(["quay.io/team/app:1", "quay.io/team/app:1"], WorkloadImages.Of(pod.Kind, pod.Object).Images.Select(i => i.Reference));
    }

    [Fact]
    public void Nesting_past_the_bound_is_refused_rather_than_overflowing_the_stack()
    {
        var deep = "kind: Pod\nspec: " + new string('[', 10_000) + new string(']', 10_000) + "\n";

        Assert.Contains($"nested deeper than {ManifestReader.MaxDepth} levels.", Refusal(deep));
    }
}
