-- AlterTable
ALTER TABLE "Organization" ADD COLUMN     "oidcClientId" TEXT,
ADD COLUMN     "oidcClientSecret" BYTEA,
ADD COLUMN     "oidcGroupsClaim" TEXT NOT NULL DEFAULT 'groups',
ADD COLUMN     "oidcIssuer" TEXT,
ADD COLUMN     "oidcRoleMappings" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "requireSso" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "breakGlass" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "oidcSubject" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "User_oidcSubject_key" ON "User"("oidcSubject");
