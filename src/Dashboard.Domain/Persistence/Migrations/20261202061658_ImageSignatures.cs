using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dashboard.Domain.Persistence.Migrations
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
                    Digest = table.Column<string>(type: "TEXT", maxLength: 135, nullable: false),
                    Repository = table.Column<string>(type: "TEXT", maxLength: 781, nullable: false),
                    CheckedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Signatures = table.Column<string>(type: "TEXT", nullable: false),
                    VerifiedKeys = table.Column<string>(type: "TEXT", maxLength: 1058, nullable: false),
                    Signed = table.Column<bool>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ImageSignatures", x => new { x.Digest, x.Repository });
                });

            migrationBuilder.CreateTable(
                name: "TrustedKeys",
                columns: table => new
                {
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    PublicKeyPem = table.Column<string>(type: "TEXT", maxLength: 16384, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    Algorithm = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Fingerprint = table.Column<string>(type: "TEXT", maxLength: 135, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false)
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
