-- AlterTable
ALTER TABLE "CorePlatform" ADD COLUMN     "alertReason" TEXT,
ADD COLUMN     "alertSince" TIMESTAMP(3);
