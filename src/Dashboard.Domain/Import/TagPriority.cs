using System.Numerics;
using System.Text.RegularExpressions;

namespace Dashboard.Domain.Import;

/// <summary>
/// The order in which a repository import takes tags, after OpenShift's <c>PrioritizeTags</c> (library-go
/// <c>pkg/image/imageutil/helpers.go</c>): first <c>latest</c>; then floating versions (<c>5</c>, <c>v5</c>, <c>5.6</c>,
/// <c>5.6-rc1</c>), newest first, a major-only tag before the major.minor tags of its major; then full semantic
/// versions, newest first by semver precedence; then everything else in ordinal order. Of two tags with the same
/// version, the one without <c>v</c> comes first.
/// </summary>
public static partial class TagPriority
{
    public static IReadOnlyList<string> Order(IEnumerable<string> tags) =>
        [.. tags.Distinct(StringComparer.Ordinal).Select(Parse).Order(Comparer.Instance).Select(t => t.Tag)];

    private enum Bucket
    {
        Latest,
        Floating,
        Semantic,
        Other,
    }

    private sealed record ParsedTag(string Tag, Bucket Bucket, BigInteger Major, BigInteger? Minor, BigInteger Patch, string? PreRelease, bool HasV);

    private static ParsedTag Parse(string tag)
    {
        if (tag == "latest")
        {
            return new ParsedTag(tag, Bucket.Latest, 0, null, 0, null, false);
        }

        if (FloatingPattern().Match(tag) is { Success: true } f)
        {
            return new ParsedTag(tag, Bucket.Floating, BigInteger.Parse(f.Groups["major"].Value),
                f.Groups["minor"].Success ? BigInteger.Parse(f.Groups["minor"].Value) : null, 0,
                f.Groups["pre"].Success ? f.Groups["pre"].Value : null, f.Groups["v"].Success);
        }

        if (SemanticPattern().Match(tag) is { Success: true } s)
        {
            return new ParsedTag(tag, Bucket.Semantic, BigInteger.Parse(s.Groups["major"].Value), BigInteger.Parse(s.Groups["minor"].Value),
                BigInteger.Parse(s.Groups["patch"].Value), s.Groups["pre"].Success ? s.Groups["pre"].Value : null, s.Groups["v"].Success);
        }

        return new ParsedTag(tag, Bucket.Other, 0, null, 0, null, false);
    }

    private sealed class Comparer : IComparer<ParsedTag>
    {
        public static readonly Comparer Instance = new();

        public int Compare(ParsedTag? x, ParsedTag? y)
        {
            if (x is null || y is null)
            {
                return x is null ? (y is null ? 0 : 1) : -1;
            }

            var order = x.Bucket.CompareTo(y.Bucket);
            if (order != 0)
            {
                return order;
            }

            if (x.Bucket is Bucket.Latest)
            {
                return 0;
            }

            if (x.Bucket is Bucket.Other)
            {
                return string.CompareOrdinal(x.Tag, y.Tag);
            }

            order = y.Major.CompareTo(x.Major);
            if (order == 0 && x.Bucket is Bucket.Floating && (x.Minor is null) != (y.Minor is null))
            {
                // v5 before v5.3: the major-only tag floats over every minor of its major.
                return x.Minor is null ? -1 : 1;
            }

            if (order == 0)
            {
                order = (y.Minor ?? 0).CompareTo(x.Minor ?? 0);
            }

            if (order == 0)
            {
                order = y.Patch.CompareTo(x.Patch);
            }

            if (order == 0)
            {
                order = -ComparePreRelease(x.PreRelease, y.PreRelease);
            }

            if (order == 0)
            {
                order = x.HasV.CompareTo(y.HasV);
            }

            return order != 0 ? order : string.CompareOrdinal(x.Tag, y.Tag);
        }

        /// <summary>Semver precedence of pre-releases: a release is above any pre-release; identifiers compare numerically or ordinally.</summary>
        private static int ComparePreRelease(string? a, string? b)
        {
            if (a == b)
            {
                return 0;
            }

            if (a is null || b is null)
            {
                return a is null ? 1 : -1;
            }

            var left = a.Split('.');
            var right = b.Split('.');
            for (var i = 0; i < Math.Min(left.Length, right.Length); i++)
            {
                var leftNumeric = BigInteger.TryParse(left[i], out var l) && left[i].All(char.IsAsciiDigit);
                var rightNumeric = BigInteger.TryParse(right[i], out var r) && right[i].All(char.IsAsciiDigit);
                var order = (leftNumeric, rightNumeric) switch
                {
                    (true, true) => l.CompareTo(r),
                    (true, false) => -1,
                    (false, true) => 1,
                    _ => string.CompareOrdinal(left[i], right[i]),
                };
                if (order != 0)
                {
                    return order;
                }
            }

            return left.Length.CompareTo(right.Length);
        }
    }

    [GeneratedRegex(@"^(?<v>v)?(?<major>\d+)(?:\.(?<minor>\d+))?(?:-(?<pre>[0-9A-Za-z]+))?$")]
    private static partial Regex FloatingPattern();

    [GeneratedRegex(@"^(?<v>v)?(?<major>\d+)\.(?<minor>\d+)\.(?<patch>\d+)(?:-(?<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemanticPattern();
}
