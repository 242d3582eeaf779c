-- AlterTable
ALTER TABLE "CertificateTemplate" ALTER COLUMN "validityDays" DROP NOT NULL;
