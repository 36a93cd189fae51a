namespace Dashboard.Domain;

/// <summary>One page of a longer list, with the length of the whole list.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total);
