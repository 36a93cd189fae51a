namespace Dashboard.Api;

/// <summary>One page of a list and how many there are in all.</summary>
public sealed record PageDto<T>(IReadOnlyList<T> Items, int Total);
