-- AlterTable
ALTER TABLE "DeviceManagementPlatform" ADD COLUMN     "previousSecretHash" TEXT,
ADD COLUMN     "previousSecretValidUntil" TIMESTAMP(3),
ADD COLUMN     "publishBlueprintIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "publishCorePlatformId" TEXT,
ADD COLUMN     "publishError" TEXT,
ADD COLUMN     "publishErrorAt" TIMESTAMP(3),
ADD COLUMN     "publishLibraryItemId" TEXT,
ADD COLUMN     "publishedAt" TIMESTAMP(3);

-- CreateIndex
CREATE UNIQUE INDEX "DeviceManagementPlatform_previousSecretHash_key" ON "DeviceManagementPlatform"("previousSecretHash");

-- AddForeignKey
ALTER TABLE "DeviceManagementPlatform" ADD CONSTRAINT "DeviceManagementPlatform_publishCorePlatformId_fkey" FOREIGN KEY ("publishCorePlatformId") REFERENCES "CorePlatform"("id") ON DELETE SET NULL ON UPDATE CASCADE;
