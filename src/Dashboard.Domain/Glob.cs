namespace Dashboard.Domain;

/// <summary>
/// The product's one wildcard matcher (policy patterns, webhook filters, keyring host labels): <c>*</c> matches any run
/// of characters that holds no separator, <c>**</c> any run at all, <c>?</c> (where allowed) one character that is no
/// separator, everything else itself; a pattern matches a whole value. It runs the pattern as a set of positions over
/// the value once — at most value length × (tokens + 1) steps, whatever the pattern — never backtracking the way a
/// regular expression does, so no pattern an Editor writes can keep a core busy.
/// </summary>
public sealed class Glob
{
    private enum Kind : byte
    {
        Literal,
        One,
        Star,
        AnyStar,
    }

    private readonly (Kind Kind, char Char)[] _tokens;
    private readonly string _separators;
    private readonly bool _ignoreCase;

    private Glob(string text, (Kind, char)[] tokens, string separators, bool ignoreCase)
    {
        Text = text;
        _tokens = tokens;
        _separators = separators;
        _ignoreCase = ignoreCase;
        var prefix = tokens.TakeWhile(t => t.Item1 == Kind.Literal).Select(t => t.Item2).ToArray();
        LiteralPrefix = new string(prefix);
        IsLiteral = prefix.Length == tokens.Length;
        LiteralSuffix = IsLiteral ? LiteralPrefix : new string([.. tokens.Reverse().TakeWhile(t => t.Item1 == Kind.Literal).Select(t => t.Item2).Reverse()]);
    }

    public string Text { get; }

    /// <summary>Whether the pattern has no wildcard: it matches one value (ignoring case where it does).</summary>
    public bool IsLiteral { get; }

    /// <summary>The literal characters before the first wildcard (lower-cased when the glob ignores case): every match starts with them.</summary>
    public string LiteralPrefix { get; }

    /// <summary>The literal characters after the last wildcard (lower-cased when the glob ignores case): every match ends with them.</summary>
    public string LiteralSuffix { get; }

    /// <param name="separators">Characters a single <c>*</c> (and <c>?</c>) does not cross; <c>**</c> does.</param>
    /// <param name="questionMark">Whether <c>?</c> is a wildcard for one character (webhook filters) or itself.</param>
    public static Glob Parse(string pattern, string separators = "", bool ignoreCase = false, bool questionMark = false)
    {
        var tokens = new List<(Kind, char)>(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*')
            {
                var any = i + 1 < pattern.Length && pattern[i + 1] == '*';
                while (i + 1 < pattern.Length && pattern[i + 1] == '*')
                {
                    i++;
                }

                // Consecutive stars collapse into one: matching them one by one would only add states.
                if (tokens.Count == 0 || tokens[^1].Item1 is not (Kind.Star or Kind.AnyStar))
                {
                    tokens.Add((any ? Kind.AnyStar : Kind.Star, '*'));
                }
                else if (any)
                {
                    tokens[^1] = (Kind.AnyStar, '*');
                }
            }
            else
            {
                tokens.Add(questionMark && c == '?' ? (Kind.One, c) : (Kind.Literal, ignoreCase ? char.ToLowerInvariant(c) : c));
            }
        }

        return new Glob(pattern, [.. tokens], separators, ignoreCase);
    }

    public bool IsMatch(string value) => IsMatch(value, out _);

    /// <summary>Whether the whole <paramref name="value"/> matches; <paramref name="steps"/> counts the work done (for tests).</summary>
    public bool IsMatch(string value, out long steps)
    {
        steps = 0;
        if (IsLiteral)
        {
            steps = value.Length;
            return string.Equals(value, LiteralPrefix, _ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        }

        var count = _tokens.Length;
        // On the stack for the patterns people write (at most 255 characters): a match allocates nothing.
        Span<bool> current = count < 256 ? stackalloc bool[count + 1] : new bool[count + 1];
        Span<bool> next = count < 256 ? stackalloc bool[count + 1] : new bool[count + 1];
        current[0] = true;
        Close(current);
        foreach (var raw in value)
        {
            var c = _ignoreCase ? char.ToLowerInvariant(raw) : raw;
            var separator = _separators.Contains(c);
            next.Clear();
            var alive = false;
            for (var i = 0; i < count; i++)
            {
                if (!current[i])
                {
                    continue;
                }

                steps++;
                var (kind, expected) = _tokens[i];
                switch (kind)
                {
                    case Kind.Literal when expected == c:
                    case Kind.One when !separator:
                        next[i + 1] = alive = true;
                        break;
                    case Kind.Star when !separator:
                    case Kind.AnyStar:
                        next[i] = alive = true;
                        break;
                }
            }

            if (!alive)
            {
                return false;
            }

            Close(next);
            var swap = current;
            current = next;
            next = swap;
        }

        return current[count];
    }

    public override string ToString() => Text;

    /// <summary>A star may match nothing: a position before one is also a position after it.</summary>
    private void Close(Span<bool> positions)
    {
        for (var i = 0; i < _tokens.Length; i++)
        {
            if (positions[i] && _tokens[i].Kind is Kind.Star or Kind.AnyStar)
            {
                positions[i + 1] = true;
            }
        }
    }
}
