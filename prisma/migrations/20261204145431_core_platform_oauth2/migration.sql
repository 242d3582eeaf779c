-- AlterTable
ALTER TABLE "CorePlatform" ADD COLUMN     "oauthClientId" TEXT,
ADD COLUMN     "oauthScope" TEXT,
ADD COLUMN     "oauthTokenUrl" TEXT;
