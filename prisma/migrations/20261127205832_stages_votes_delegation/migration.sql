-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ApprovalEventType" ADD VALUE 'VOTED';
ALTER TYPE "ApprovalEventType" ADD VALUE 'ADVANCED';
ALTER TYPE "ApprovalEventType" ADD VALUE 'DELEGATED';

-- AlterTable
ALTER TABLE "ApprovalRequest" ADD COLUMN     "requiredApprovals" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "stage" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "stageCount" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "ApprovalRule" ADD COLUMN     "nextStages" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "requiredApprovals" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "awayUntil" TIMESTAMP(3),
ADD COLUMN     "delegateId" UUID;

-- CreateTable
CREATE TABLE "ApprovalVote" (
    "id" UUID NOT NULL,
    "requestId" UUID NOT NULL,
    "stage" INTEGER NOT NULL,
    "userId" UUID,
    "agentId" UUID,
    "comment" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApprovalVote_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ApprovalVote_requestId_stage_idx" ON "ApprovalVote"("requestId", "stage");

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalVote_requestId_userId_key" ON "ApprovalVote"("requestId", "userId");

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalVote_requestId_agentId_key" ON "ApprovalVote"("requestId", "agentId");

-- CreateIndex
CREATE INDEX "User_delegateId_idx" ON "User"("delegateId");

-- CreateIndex
CREATE INDEX "User_available_awayUntil_idx" ON "User"("available", "awayUntil");

-- AddForeignKey
ALTER TABLE "User" ADD CONSTRAINT "User_delegateId_fkey" FOREIGN KEY ("delegateId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalVote" ADD CONSTRAINT "ApprovalVote_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ApprovalRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalVote" ADD CONSTRAINT "ApprovalVote_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalVote" ADD CONSTRAINT "ApprovalVote_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;
