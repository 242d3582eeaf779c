-- AlterTable
ALTER TABLE "Certificate" ADD COLUMN     "posture" JSONB;

-- AlterTable
ALTER TABLE "DeviceRole" ADD COLUMN     "postureConditions" JSONB NOT NULL DEFAULT '[]';
