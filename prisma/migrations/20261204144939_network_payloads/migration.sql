-- AlterTable
ALTER TABLE "DeviceManagementPlatform" ADD COLUMN     "networkPayloads" JSONB NOT NULL DEFAULT '{}';
