namespace Dashboard.Domain.Policy;

/// <summary>
/// Every pattern of one part of the reference (all the rules' registry patterns, say) in one structure that answers
/// "which of them match this value" without trying each: a pattern with a literal start sits in a character trie under
/// it, one that starts with a wildcard but ends literally in a trie of reversed ends, and only patterns with neither
/// (<c>*</c>, <c>**</c>) are tried every time. A lookup walks the value once down each trie and tries the few patterns it
/// meets there, so 1,000 rules cost about what 100 do when their patterns differ (as they do: a rule per team, registry or
/// tag family). The patterns themselves are the product's one <see cref="Glob"/>.
/// </summary>
internal sealed class PatternIndex
{
    private readonly Node _starts = new();
    private readonly Node _ends = new();
    private readonly List<(ImagePattern Pattern, int Rule)> _anywhere = [];

    public void Add(ImagePattern pattern, int rule)
    {
        var (prefix, suffix) = (pattern.LiteralPrefix, pattern.LiteralSuffix);
        if (prefix.Length > 0)
        {
            _starts.At(prefix, reverse: false).Patterns.Add((pattern, rule));
        }
        else if (suffix.Length > 0)
        {
            _ends.At(suffix, reverse: true).Patterns.Add((pattern, rule));
        }
        else
        {
            _anywhere.Add((pattern, rule));
        }
    }

    /// <summary>Calls <paramref name="hit"/> with the rule of every pattern that matches <paramref name="value"/> (a rule once per pattern).</summary>
    public void Match<TState>(string value, bool ignoreCase, ref TState state, HitAction<TState> hit)
    {
        Walk(_starts, value, ignoreCase, reverse: false, ref state, hit);
        Walk(_ends, value, ignoreCase, reverse: true, ref state, hit);
        foreach (var (pattern, rule) in _anywhere)
        {
            if (pattern.Matches(value))
            {
                hit(ref state, rule);
            }
        }
    }

    public delegate void HitAction<TState>(ref TState state, int rule);

    private static void Walk<TState>(Node root, string value, bool ignoreCase, bool reverse, ref TState state, HitAction<TState> hit)
    {
        var node = root;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[reverse ? value.Length - 1 - i : i];
            if (node.Children is null || !node.Children.TryGetValue(ignoreCase ? char.ToLowerInvariant(c) : c, out node))
            {
                return;
            }

            foreach (var (pattern, rule) in node.Patterns)
            {
                if (pattern.Matches(value))
                {
                    hit(ref state, rule);
                }
            }
        }
    }

    private sealed class Node
    {
        public Dictionary<char, Node>? Children;

        public readonly List<(ImagePattern Pattern, int Rule)> Patterns = [];

        public Node At(string literal, bool reverse)
        {
            var node = this;
            for (var i = 0; i < literal.Length; i++)
            {
                var c = literal[reverse ? literal.Length - 1 - i : i];
                node.Children ??= [];
                if (!node.Children.TryGetValue(c, out var child))
                {
                    node.Children[c] = child = new Node();
                }

                node = child;
            }

            return node;
        }
    }
}
