-- CreateEnum
CREATE TYPE "ExpiryAction" AS ENUM ('EXPIRE', 'APPROVE');

-- AlterTable
ALTER TABLE "ApprovalRule" ADD COLUMN     "onExpiry" "ExpiryAction" NOT NULL DEFAULT 'EXPIRE';
