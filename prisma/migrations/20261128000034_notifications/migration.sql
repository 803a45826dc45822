-- CreateEnum
CREATE TYPE "NotificationChannel" AS ENUM ('EMAIL', 'SLACK');

-- CreateEnum
CREATE TYPE "NotificationKind" AS ENUM ('REVIEW', 'OUTCOME');

-- CreateEnum
CREATE TYPE "NotificationStatus" AS ENUM ('PENDING', 'SENT', 'SKIPPED', 'FAILED');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "notifyByEmail" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "slackUserId" TEXT;

-- CreateTable
CREATE TABLE "Notification" (
    "id" UUID NOT NULL,
    "requestId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "reviewerId" UUID NOT NULL,
    "channel" "NotificationChannel" NOT NULL,
    "kind" "NotificationKind" NOT NULL DEFAULT 'REVIEW',
    "status" "NotificationStatus" NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3),
    "leaseId" UUID,
    "leaseExpiresAt" TIMESTAMP(3),
    "lastError" TEXT,
    "slackChannel" TEXT,
    "slackTs" TEXT,
    "sentAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Notification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DecisionToken" (
    "id" UUID NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "requestId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "notificationId" UUID NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DecisionToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Notification_status_nextAttemptAt_idx" ON "Notification"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Notification_requestId_idx" ON "Notification"("requestId");

-- CreateIndex
CREATE INDEX "Notification_userId_idx" ON "Notification"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Notification_reviewerId_channel_kind_key" ON "Notification"("reviewerId", "channel", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "DecisionToken_tokenHash_key" ON "DecisionToken"("tokenHash");

-- CreateIndex
CREATE UNIQUE INDEX "DecisionToken_notificationId_key" ON "DecisionToken"("notificationId");

-- CreateIndex
CREATE INDEX "DecisionToken_requestId_idx" ON "DecisionToken"("requestId");

-- CreateIndex
CREATE INDEX "DecisionToken_userId_idx" ON "DecisionToken"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "User_slackUserId_key" ON "User"("slackUserId");

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ApprovalRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Notification" ADD CONSTRAINT "Notification_reviewerId_fkey" FOREIGN KEY ("reviewerId") REFERENCES "ApprovalReviewer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DecisionToken" ADD CONSTRAINT "DecisionToken_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ApprovalRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DecisionToken" ADD CONSTRAINT "DecisionToken_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DecisionToken" ADD CONSTRAINT "DecisionToken_notificationId_fkey" FOREIGN KEY ("notificationId") REFERENCES "Notification"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The notification outbox is written by triggers, in the statement or transaction that makes the
-- change, whichever code path makes it: a new request (one statement of data-modifying CTEs, or
-- the transactional path), an escalation, a delegation, the next stage, a reviewer handing on.
-- Prisma's schema does not describe triggers, so they live here only (the drift test ignores them).

-- Someone became a reviewer (a new active row, or a row made active again): one REVIEW
-- notification per channel the person wants. Agents get none. Whether a channel is configured
-- is decided when it is sent (rows of a channel that is off are SKIPPED).
CREATE FUNCTION "notify_new_reviewer"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."userId" IS NULL OR NOT NEW."active" THEN
    RETURN NULL;
  END IF;
  INSERT INTO "Notification" ("id", "requestId", "userId", "reviewerId", "channel", "kind", "status", "attempts", "nextAttemptAt", "createdAt")
  SELECT gen_random_uuid(), NEW."requestId", u."id", NEW."id", c."channel", 'REVIEW', 'PENDING', 0, NEW."assignedAt", NEW."assignedAt"
  FROM "User" u
  CROSS JOIN LATERAL (VALUES ('EMAIL'::"NotificationChannel", u."notifyByEmail"), ('SLACK'::"NotificationChannel", u."slackUserId" IS NOT NULL)) AS c("channel", "wanted")
  WHERE u."id" = NEW."userId" AND c."wanted"
  ON CONFLICT ("reviewerId", "channel", "kind") DO UPDATE
    SET "status" = 'PENDING', "attempts" = 0, "nextAttemptAt" = EXCLUDED."nextAttemptAt", "leaseId" = NULL, "leaseExpiresAt" = NULL, "lastError" = NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER "ApprovalReviewer_notify_insert" AFTER INSERT ON "ApprovalReviewer"
  FOR EACH ROW WHEN (NEW."active" AND NEW."userId" IS NOT NULL) EXECUTE FUNCTION "notify_new_reviewer"();
CREATE TRIGGER "ApprovalReviewer_notify_reactivate" AFTER UPDATE OF "active" ON "ApprovalReviewer"
  FOR EACH ROW WHEN (NEW."active" AND NOT OLD."active" AND NEW."userId" IS NOT NULL) EXECUTE FUNCTION "notify_new_reviewer"();

-- A Slack message with buttons is out of date: its request left PENDING (decided by anyone,
-- expired, cancelled), or its reviewer is no longer one (handed on, voted, the next stage). An
-- OUTCOME row makes the dispatcher replace the buttons with what happened (chat.update). Only
-- messages already posted (slackTs known) get one here; the dispatcher checks again, under the
-- request's lock, when it records a message it has just posted. A second change re-arms the row,
-- since the text is made from the state when it is sent. It is due at once: from the message's
-- own creation (the service's clock, which tests move; the database's now() is not that clock).
CREATE FUNCTION "notify_slack_outcome"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "Notification" ("id", "requestId", "userId", "reviewerId", "channel", "kind", "status", "attempts", "nextAttemptAt", "createdAt")
  SELECT gen_random_uuid(), n."requestId", n."userId", n."reviewerId", 'SLACK', 'OUTCOME', 'PENDING', 0, n."createdAt", now()
  FROM "Notification" n
  WHERE n."channel" = 'SLACK' AND n."kind" = 'REVIEW' AND n."slackTs" IS NOT NULL
    AND (CASE WHEN TG_TABLE_NAME = 'ApprovalRequest' THEN n."requestId" = NEW."id" ELSE n."reviewerId" = NEW."id" END)
  ON CONFLICT ("reviewerId", "channel", "kind") DO UPDATE
    SET "status" = 'PENDING', "attempts" = 0, "nextAttemptAt" = EXCLUDED."nextAttemptAt", "leaseId" = NULL, "leaseExpiresAt" = NULL, "lastError" = NULL;
  RETURN NULL;
END $$;

CREATE TRIGGER "ApprovalRequest_notify_outcome" AFTER UPDATE OF "status" ON "ApprovalRequest"
  FOR EACH ROW WHEN (OLD."status" = 'PENDING' AND NEW."status" <> 'PENDING') EXECUTE FUNCTION "notify_slack_outcome"();
CREATE TRIGGER "ApprovalReviewer_notify_outcome" AFTER UPDATE OF "active" ON "ApprovalReviewer"
  FOR EACH ROW WHEN (OLD."active" AND NOT NEW."active" AND NEW."userId" IS NOT NULL) EXECUTE FUNCTION "notify_slack_outcome"();
