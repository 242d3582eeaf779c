-- DropIndex
DROP INDEX "Event_actorName_idx";

-- DropIndex
DROP INDEX "Event_certificateSerial_idx";

-- DropIndex
DROP INDEX "Event_deviceSerial_idx";

-- DropIndex
DROP INDEX "Event_objectId_idx";

-- DropIndex
DROP INDEX "Event_outcome_time_idx";

-- DropIndex
DROP INDEX "Event_type_time_idx";

-- CreateTable
CREATE TABLE "Notification" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "dedupeKey" TEXT NOT NULL,
    "certificateId" TEXT,
    "recipient" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedUntil" TIMESTAMP(3),
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" TIMESTAMP(3),

    CONSTRAINT "Notification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LookupBudget" (
    "corePlatformId" TEXT NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "used" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "LookupBudget_pkey" PRIMARY KEY ("corePlatformId","windowStart")
);

-- CreateTable
CREATE TABLE "DeviceCheck" (
    "signalSourceId" TEXT NOT NULL,
    "deviceSerial" TEXT NOT NULL,
    "checkedAt" TIMESTAMP(3) NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT NOT NULL,

    CONSTRAINT "DeviceCheck_pkey" PRIMARY KEY ("signalSourceId","deviceSerial")
);

-- CreateIndex
CREATE UNIQUE INDEX "Notification_dedupeKey_key" ON "Notification"("dedupeKey");

-- CreateIndex
CREATE INDEX "Notification_status_nextAttemptAt_idx" ON "Notification"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "Notification_certificateId_idx" ON "Notification"("certificateId");

-- CreateIndex
CREATE INDEX "Notification_createdAt_idx" ON "Notification"("createdAt" DESC);

-- CreateIndex
CREATE INDEX "DeviceCheck_signalSourceId_checkedAt_idx" ON "DeviceCheck"("signalSourceId", "checkedAt");

-- CreateIndex
CREATE INDEX "Event_type_id_idx" ON "Event"("type", "id");

-- CreateIndex
CREATE INDEX "Event_outcome_id_idx" ON "Event"("outcome", "id");

-- CreateIndex
CREATE INDEX "Event_deviceSerial_id_idx" ON "Event"("deviceSerial", "id");

-- CreateIndex
CREATE INDEX "Event_certificateSerial_id_idx" ON "Event"("certificateSerial", "id");

-- CreateIndex
CREATE INDEX "Event_actorName_id_idx" ON "Event"("actorName", "id");

-- CreateIndex
CREATE INDEX "Event_objectType_id_idx" ON "Event"("objectType", "id");

-- CreateIndex
CREATE INDEX "Event_objectId_id_idx" ON "Event"("objectId", "id");

-- CreateIndex
CREATE INDEX "Event_objectName_id_idx" ON "Event"("objectName", "id");
