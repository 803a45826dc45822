-- AlterTable
ALTER TABLE "ApprovalRequest" ADD COLUMN     "conditionError" TEXT;

-- CreateTable
CREATE TABLE "_AgentActsFor" (
    "A" UUID NOT NULL,
    "B" UUID NOT NULL,

    CONSTRAINT "_AgentActsFor_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE INDEX "_AgentActsFor_B_index" ON "_AgentActsFor"("B");

-- AddForeignKey
ALTER TABLE "_AgentActsFor" ADD CONSTRAINT "_AgentActsFor_A_fkey" FOREIGN KEY ("A") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_AgentActsFor" ADD CONSTRAINT "_AgentActsFor_B_fkey" FOREIGN KEY ("B") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- record:manage: read and reassign any record (owners and admins).
UPDATE "Role" SET "permissions" = array_append("permissions", 'record:manage')
WHERE "key" IN ('owner', 'admin') AND NOT ('record:manage' = ANY("permissions"));
