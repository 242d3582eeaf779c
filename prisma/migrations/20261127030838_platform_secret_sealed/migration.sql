-- DropIndex
DROP INDEX "DeviceManagementPlatform_enrollmentSecret_key";

-- AlterTable
ALTER TABLE "DeviceManagementPlatform" ADD COLUMN     "enrollmentSecretHash" TEXT NOT NULL,
DROP COLUMN "enrollmentSecret",
ADD COLUMN     "enrollmentSecret" BYTEA NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "DeviceManagementPlatform_enrollmentSecretHash_key" ON "DeviceManagementPlatform"("enrollmentSecretHash");
