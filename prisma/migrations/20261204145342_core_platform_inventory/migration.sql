-- AlterTable
ALTER TABLE "CorePlatform" ADD COLUMN     "inventoryPassAt" TIMESTAMP(3),
ADD COLUMN     "listItemsPath" TEXT,
ADD COLUMN     "listPageSize" INTEGER NOT NULL DEFAULT 300,
ADD COLUMN     "listPaging" TEXT,
ADD COLUMN     "listSerialPath" TEXT,
ADD COLUMN     "listUri" TEXT;
