-- AlterEnum
ALTER TYPE "ApprovalEventType" ADD VALUE 'EDITED';

-- AlterTable
ALTER TABLE "ApprovalRequest" ADD COLUMN     "approvedParams" JSONB,
ADD COLUMN     "edited" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "ApprovalRule" ADD COLUMN     "allowEdit" BOOLEAN NOT NULL DEFAULT true;
