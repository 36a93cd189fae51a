using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RepositoryImportRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "RepositoryImportRuns",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    NamespaceId = table.Column<int>(type: "INTEGER", nullable: false),
                    Namespace = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    Stream = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    From = table.Column<string>(type: "TEXT", maxLength: 781, nullable: false),
                    MaxTags = table.Column<int>(type: "INTEGER", nullable: true),
                    Insecure = table.Column<bool>(type: "INTEGER", nullable: false),
                    Scheduled = table.Column<bool>(type: "INTEGER", nullable: false),
                    ImportMode = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    RequestedBy = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true),
                    State = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Total = table.Column<int>(type: "INTEGER", nullable: false),
                    Done = table.Column<int>(type: "INTEGER", nullable: false),
                    Failed = table.Column<int>(type: "INTEGER", nullable: false),
                    InFlight = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    Message = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    Result = table.Column<string>(type: "TEXT", nullable: true),
                    StartedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FinishedAt = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RepositoryImportRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RepositoryImportRuns_Namespaces_NamespaceId",
                        column: x => x.NamespaceId,
                        principalTable: "Namespaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_RepositoryImportRuns_NamespaceId_Stream_StartedAt",
                table: "RepositoryImportRuns",
                columns: new[] { "NamespaceId", "Stream", "StartedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RepositoryImportRuns");
        }
    }
}
