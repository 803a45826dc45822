-- CreateEnum
CREATE TYPE "ExecutionStatus" AS ENUM ('READY', 'RUNNING', 'SUCCEEDED', 'FAILED');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "ApprovalEventType" ADD VALUE 'EXECUTION_STARTED';
ALTER TYPE "ApprovalEventType" ADD VALUE 'EXECUTION_RETRYING';

-- AlterTable
ALTER TABLE "ApprovalEvent" ADD COLUMN     "details" JSONB;

-- CreateTable
CREATE TABLE "Execution" (
    "requestId" UUID NOT NULL,
    "requesterKey" UUID NOT NULL,
    "actionType" TEXT NOT NULL,
    "status" "ExecutionStatus" NOT NULL DEFAULT 'READY',
    "params" JSONB NOT NULL,
    "paramsDigest" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "leaseTokenHash" TEXT,
    "leaseExpiresAt" TIMESTAMP(3),
    "result" JSONB,
    "error" TEXT,
    "readyAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Execution_pkey" PRIMARY KEY ("requestId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Execution_leaseTokenHash_key" ON "Execution"("leaseTokenHash");

-- CreateIndex
CREATE INDEX "Execution_requesterKey_status_readyAt_idx" ON "Execution"("requesterKey", "status", "readyAt");

-- CreateIndex
CREATE INDEX "Execution_status_leaseExpiresAt_idx" ON "Execution"("status", "leaseExpiresAt");

-- AddForeignKey
ALTER TABLE "Execution" ADD CONSTRAINT "Execution_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ApprovalRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;
