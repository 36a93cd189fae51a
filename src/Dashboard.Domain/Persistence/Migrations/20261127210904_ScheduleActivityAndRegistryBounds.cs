using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Domain.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ScheduleActivityAndRegistryBounds : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "LastJobId",
                table: "TagSchedules",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "RegistryConcurrency",
                table: "ScheduleSettings",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RegistryOverrides",
                table: "ScheduleSettings",
                type: "TEXT",
                maxLength: 20000,
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "RegistryRequestsPerSecond",
                table: "ScheduleSettings",
                type: "REAL",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "CheckMinutes",
                columns: table => new
                {
                    Minute = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Checks = table.Column<int>(type: "INTEGER", nullable: false),
                    Failures = table.Column<int>(type: "INTEGER", nullable: false),
                    Changes = table.Column<int>(type: "INTEGER", nullable: false),
                    DurationMs = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CheckMinutes", x => x.Minute);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CheckMinutes");

            migrationBuilder.DropColumn(
                name: "LastJobId",
                table: "TagSchedules");

            migrationBuilder.DropColumn(
                name: "RegistryConcurrency",
                table: "ScheduleSettings");

            migrationBuilder.DropColumn(
                name: "RegistryOverrides",
                table: "ScheduleSettings");

            migrationBuilder.DropColumn(
                name: "RegistryRequestsPerSecond",
                table: "ScheduleSettings");
        }
    }
}
