-- CreateTable
CREATE TABLE "RuleSet" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "RuleSet_pkey" PRIMARY KEY ("id")
);

-- the one row
INSERT INTO "RuleSet" ("id", "version") VALUES (1, 0);
