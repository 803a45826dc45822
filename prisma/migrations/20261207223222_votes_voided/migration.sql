-- A reviewer's edit in a stage where others approved already voids their approvals (they were of
-- other params): a VOTES_VOIDED event names them, and they review the edit again.

-- AlterEnum
ALTER TYPE "ApprovalEventType" ADD VALUE 'VOTES_VOIDED';
