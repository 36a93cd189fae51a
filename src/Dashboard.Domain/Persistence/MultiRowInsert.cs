using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Dashboard.Domain.Persistence;

/// <summary>
/// Inserts many rows of one entity as multi-row <c>INSERT … VALUES (…), (…)</c> statements, without change tracking: EF
/// sends one statement per row (SQLite does not batch at all), which was most of the admission decision writer's CPU.
/// Table, columns, quoting, parameters and value conversions all come from the EF model and the provider, so the same
/// code runs on SQLite and PostgreSQL.
/// </summary>
internal static class MultiRowInsert
{
    // SQLite takes at most 32,766 parameters a statement, PostgreSQL 65,535.
    private const int MaxParameters = 10_000;

    private const int MaxRows = 1_000;

    /// <summary>
    /// Inserts <paramref name="rows"/> in the current transaction (if any); with <paramref name="returnKeys"/> answers their
    /// generated keys in the order of <paramref name="rows"/>.
    /// </summary>
    public static async Task<long[]> InsertRowsAsync<T>(this DbContext db, IReadOnlyList<T> rows, bool returnKeys, CancellationToken ct)
        where T : class
    {
        if (rows.Count == 0)
        {
            return [];
        }

        var type = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not an entity.");
        var table = StoreObjectIdentifier.Table(type.GetTableName()!, type.GetSchema());
        var key = type.FindPrimaryKey()!.Properties.Single();
        IProperty[] columns = [.. type.GetProperties().Where(p => p != key)];
        var sql = db.GetService<ISqlGenerationHelper>();
        var insert = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} "
            + $"({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.GetColumnName(table)!)))}) VALUES ";
        var returning = returnKeys ? $" RETURNING {sql.DelimitIdentifier(key.GetColumnName(table)!)}" : "";
        var perStatement = Math.Min(MaxRows, MaxParameters / columns.Length);
        var keys = returnKeys ? new long[rows.Count] : [];

        await db.Database.OpenConnectionAsync(ct);
        try
        {
            for (var start = 0; start < rows.Count; start += perStatement)
            {
                var count = Math.Min(perStatement, rows.Count - start);
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
                command.CommandTimeout = db.Database.GetCommandTimeout() ?? command.CommandTimeout;
                var text = new StringBuilder(insert);
                for (var row = 0; row < count; row++)
                {
                    text.Append(row == 0 ? "(" : ", (");
                    for (var column = 0; column < columns.Length; column++)
                    {
                        var name = $"p{command.Parameters.Count}";
                        var property = columns[column];
                        // The type mapping applies the model's converters (UTC times, enums as text) as SaveChanges would.
                        command.Parameters.Add(property.GetRelationalTypeMapping().CreateParameter(command, sql.GenerateParameterName(name),
                            property.PropertyInfo!.GetValue(rows[start + row]), property.IsNullable));
                        text.Append(column == 0 ? "" : ", ").Append(sql.GenerateParameterNamePlaceholder(name));
                    }

                    text.Append(')');
                }

                command.CommandText = text.Append(returning).ToString();
                if (!returnKeys)
                {
                    await command.ExecuteNonQueryAsync(ct);
                    continue;
                }

                var inserted = new List<long>(count);
                await using (var reader = await command.ExecuteReaderAsync(ct))
                {
                    while (await reader.ReadAsync(ct))
                    {
                        inserted.Add(reader.GetInt64(0));
                    }
                }

                if (inserted.Count != count)
                {
                    throw new InvalidOperationException($"{count} rows were inserted into {table.Name} but {inserted.Count} keys came back.");
                }

                // RETURNING's order is not promised (SQLite says so); keys grow in the order the VALUES rows are inserted.
                inserted.Sort();
                inserted.CopyTo(keys, start);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        return keys;
    }
}
