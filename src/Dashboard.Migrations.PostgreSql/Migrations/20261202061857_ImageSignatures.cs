using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Migrations.PostgreSql.Migrations
{
    /// <inheritdoc />
    public partial class ImageSignatures : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ImageSignatures",
                columns: table => new
                {
                    Digest = table.Column<string>(type: "character varying(135)", maxLength: 135, nullable: false),
                    Repository = table.Column<string>(type: "character varying(781)", maxLength: 781, nullable: false),
                    CheckedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Signatures = table.Column<string>(type: "text", nullable: false),
                    VerifiedKeys = table.Column<string>(type: "character varying(1058)", maxLength: 1058, nullable: false),
                    Signed = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ImageSignatures", x => new { x.Digest, x.Repository });
                });

            migrationBuilder.CreateTable(
                name: "TrustedKeys",
                columns: table => new
                {
                    Name = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    PublicKeyPem = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    Description = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    Algorithm = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Fingerprint = table.Column<string>(type: "character varying(135)", maxLength: 135, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    UpdatedBy = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TrustedKeys", x => x.Name);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ImageSignatures");

            migrationBuilder.DropTable(
                name: "TrustedKeys");
        }
    }
}
