-- AlterTable
ALTER TABLE "CertificateTemplate" ADD COLUMN     "allowCsrSans" BOOLEAN NOT NULL DEFAULT true;
