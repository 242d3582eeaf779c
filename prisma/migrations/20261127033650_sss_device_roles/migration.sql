-- AlterTable
ALTER TABLE "SecuritySignalSource" ADD COLUMN     "deviceRoleIds" TEXT[] DEFAULT ARRAY[]::TEXT[];
