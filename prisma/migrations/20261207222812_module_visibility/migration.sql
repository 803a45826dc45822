-- Who reads a module's records: ORG (everyone signed in; the default for a module without a row)
-- or PRIVATE (the owner, record:manage holders and agents acting for someone who may read it).
-- Before this migration every module was PRIVATE in effect: the modules that already hold records
-- keep that, so an upgrade shows nobody a record they could not read before; an approval manager
-- opens them to the organisation with setModuleVisibility.
-- CreateEnum
CREATE TYPE "RecordVisibility" AS ENUM ('ORG', 'PRIVATE');

-- CreateTable
CREATE TABLE "ModuleSettings" (
    "module" TEXT NOT NULL,
    "visibility" "RecordVisibility" NOT NULL DEFAULT 'ORG',
    "updatedById" UUID,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ModuleSettings_pkey" PRIMARY KEY ("module")
);

-- Modules that exist already stay as they were
INSERT INTO "ModuleSettings" ("module", "visibility", "updatedAt")
SELECT DISTINCT "module", 'PRIVATE'::"RecordVisibility", CURRENT_TIMESTAMP FROM "Record";
