-- CreateEnum
CREATE TYPE "ResourceType" AS ENUM ('AGENT_ACTION', 'RECORD_MUTATION');

-- CreateEnum
CREATE TYPE "ResolverType" AS ENUM ('NAMED_USER', 'MANAGER', 'ROLE', 'RECORD_OWNER', 'AGENT', 'AUTO_APPROVE');

-- CreateEnum
CREATE TYPE "ApprovalStatus" AS ENUM ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "ApprovalEventType" AS ENUM ('REQUESTED', 'ESCALATED', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED', 'EXECUTED', 'EXECUTION_FAILED');

-- CreateTable
CREATE TABLE "ApprovalRule" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "resourceType" "ResourceType" NOT NULL,
    "actionType" TEXT NOT NULL,
    "module" TEXT,
    "conditions" JSONB,
    "primaryResolver" JSONB NOT NULL,
    "fallbackResolver" JSONB,
    "expiresAfterSeconds" INTEGER,
    "escalateAfterSeconds" INTEGER,
    "allowSelfApproval" BOOLEAN NOT NULL DEFAULT false,
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdById" UUID,
    "updatedById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ApprovalRule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApprovalRequest" (
    "id" UUID NOT NULL,
    "status" "ApprovalStatus" NOT NULL DEFAULT 'PENDING',
    "resourceType" "ResourceType" NOT NULL,
    "actionType" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "module" TEXT,
    "recordId" TEXT,
    "recordRefId" UUID,
    "summary" TEXT,
    "context" JSONB,
    "ruleId" UUID,
    "ruleSnapshot" JSONB NOT NULL,
    "requesterUserId" UUID,
    "requesterAgentId" UUID,
    "onBehalfOfId" UUID,
    "resolverType" "ResolverType" NOT NULL,
    "escalated" BOOLEAN NOT NULL DEFAULT false,
    "decidedByUserId" UUID,
    "decidedByAgentId" UUID,
    "decisionComment" TEXT,
    "decidedAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3),
    "escalateAt" TIMESTAMP(3),
    "autoApproveAt" TIMESTAMP(3),
    "idempotencyKey" TEXT,
    "inputHash" TEXT NOT NULL,
    "requesterKey" UUID NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ApprovalRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApprovalReviewer" (
    "id" UUID NOT NULL,
    "requestId" UUID NOT NULL,
    "userId" UUID,
    "agentId" UUID,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "assignedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApprovalReviewer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApprovalEvent" (
    "id" BIGSERIAL NOT NULL,
    "requestId" UUID NOT NULL,
    "type" "ApprovalEventType" NOT NULL,
    "actorUserId" UUID,
    "actorAgentId" UUID,
    "comment" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApprovalEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Record" (
    "id" UUID NOT NULL,
    "module" TEXT NOT NULL,
    "ownerId" UUID,
    "data" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Record_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ApprovalRule_resourceType_actionType_enabled_idx" ON "ApprovalRule"("resourceType", "actionType", "enabled");

-- CreateIndex
CREATE INDEX "ApprovalRequest_status_expiresAt_idx" ON "ApprovalRequest"("status", "expiresAt");

-- CreateIndex
CREATE INDEX "ApprovalRequest_status_escalateAt_idx" ON "ApprovalRequest"("status", "escalateAt");

-- CreateIndex
CREATE INDEX "ApprovalRequest_status_autoApproveAt_idx" ON "ApprovalRequest"("status", "autoApproveAt");

-- CreateIndex
CREATE INDEX "ApprovalRequest_createdAt_id_idx" ON "ApprovalRequest"("createdAt", "id");

-- CreateIndex
CREATE INDEX "ApprovalRequest_ruleId_idx" ON "ApprovalRequest"("ruleId");

-- CreateIndex
CREATE INDEX "ApprovalRequest_requesterKey_idx" ON "ApprovalRequest"("requesterKey");

-- CreateIndex
CREATE INDEX "ApprovalRequest_decidedByUserId_idx" ON "ApprovalRequest"("decidedByUserId");

-- CreateIndex
CREATE INDEX "ApprovalRequest_decidedByAgentId_idx" ON "ApprovalRequest"("decidedByAgentId");

-- CreateIndex
CREATE INDEX "ApprovalRequest_onBehalfOfId_idx" ON "ApprovalRequest"("onBehalfOfId");

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalRequest_requesterKey_idempotencyKey_key" ON "ApprovalRequest"("requesterKey", "idempotencyKey");

-- CreateIndex
CREATE INDEX "ApprovalReviewer_requestId_active_idx" ON "ApprovalReviewer"("requestId", "active");

-- CreateIndex
CREATE INDEX "ApprovalReviewer_userId_active_idx" ON "ApprovalReviewer"("userId", "active");

-- CreateIndex
CREATE INDEX "ApprovalReviewer_agentId_active_idx" ON "ApprovalReviewer"("agentId", "active");

-- CreateIndex
CREATE INDEX "ApprovalEvent_requestId_id_idx" ON "ApprovalEvent"("requestId", "id");

-- CreateIndex
CREATE INDEX "Record_module_idx" ON "Record"("module");

-- CreateIndex
CREATE INDEX "Record_ownerId_idx" ON "Record"("ownerId");

-- AddForeignKey
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_recordRefId_fkey" FOREIGN KEY ("recordRefId") REFERENCES "Record"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_ruleId_fkey" FOREIGN KEY ("ruleId") REFERENCES "ApprovalRule"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_requesterUserId_fkey" FOREIGN KEY ("requesterUserId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_requesterAgentId_fkey" FOREIGN KEY ("requesterAgentId") REFERENCES "Agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_onBehalfOfId_fkey" FOREIGN KEY ("onBehalfOfId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_decidedByUserId_fkey" FOREIGN KEY ("decidedByUserId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalRequest" ADD CONSTRAINT "ApprovalRequest_decidedByAgentId_fkey" FOREIGN KEY ("decidedByAgentId") REFERENCES "Agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalReviewer" ADD CONSTRAINT "ApprovalReviewer_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ApprovalRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalReviewer" ADD CONSTRAINT "ApprovalReviewer_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalReviewer" ADD CONSTRAINT "ApprovalReviewer_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalEvent" ADD CONSTRAINT "ApprovalEvent_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ApprovalRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalEvent" ADD CONSTRAINT "ApprovalEvent_actorUserId_fkey" FOREIGN KEY ("actorUserId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalEvent" ADD CONSTRAINT "ApprovalEvent_actorAgentId_fkey" FOREIGN KEY ("actorAgentId") REFERENCES "Agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Record" ADD CONSTRAINT "Record_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
