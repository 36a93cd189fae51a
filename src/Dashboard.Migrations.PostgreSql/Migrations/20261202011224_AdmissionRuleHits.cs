using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Dashboard.Migrations.PostgreSql.Migrations
{
    /// <inheritdoc />
    public partial class AdmissionRuleHits : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AdmissionRuleHits",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    AdmissionRecordId = table.Column<long>(type: "bigint", nullable: false),
                    Rule = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    Effect = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    At = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Namespace = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AdmissionRuleHits", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AdmissionRuleHits_AdmissionRecords_AdmissionRecordId",
                        column: x => x.AdmissionRecordId,
                        principalTable: "AdmissionRecords",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AdmissionRuleHits_AdmissionRecordId",
                table: "AdmissionRuleHits",
                column: "AdmissionRecordId");

            migrationBuilder.CreateIndex(
                name: "IX_AdmissionRuleHits_At_Rule",
                table: "AdmissionRuleHits",
                columns: new[] { "At", "Rule" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AdmissionRuleHits");
        }
    }
}
