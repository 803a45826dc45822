-- Which notification channels the service sends (set by each instance as it starts, see
-- outbox/notifications.ts): the trigger that writes a notification for each new reviewer writes
-- none for a channel that is off, rather than a row its dispatcher would only mark SKIPPED. Both
-- are on until an instance says otherwise, as before this table.

-- CreateTable
CREATE TABLE "NotificationChannelState" (
    "channel" "NotificationChannel" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NotificationChannelState_pkey" PRIMARY KEY ("channel")
);

INSERT INTO "NotificationChannelState" ("channel") VALUES ('EMAIL'), ('SLACK');

-- As in the notifications migration, and only for the channels that are on (a channel without a
-- row counts as on).
CREATE OR REPLACE FUNCTION "notify_new_reviewer"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."userId" IS NULL OR NOT NEW."active" THEN
    RETURN NULL;
  END IF;
  INSERT INTO "Notification" ("id", "requestId", "userId", "reviewerId", "channel", "kind", "status", "attempts", "nextAttemptAt", "createdAt")
  SELECT gen_random_uuid(), NEW."requestId", u."id", NEW."id", c."channel", 'REVIEW', 'PENDING', 0, NEW."assignedAt", NEW."assignedAt"
  FROM "User" u
  CROSS JOIN LATERAL (VALUES ('EMAIL'::"NotificationChannel", u."notifyByEmail"), ('SLACK'::"NotificationChannel", u."slackUserId" IS NOT NULL)) AS c("channel", "wanted")
  LEFT JOIN "NotificationChannelState" s ON s."channel" = c."channel"
  WHERE u."id" = NEW."userId" AND c."wanted" AND coalesce(s."enabled", true)
  ON CONFLICT ("reviewerId", "channel", "kind") DO UPDATE
    SET "status" = 'PENDING', "attempts" = 0, "nextAttemptAt" = EXCLUDED."nextAttemptAt", "leaseId" = NULL, "leaseExpiresAt" = NULL, "lastError" = NULL;
  RETURN NULL;
END $$;
