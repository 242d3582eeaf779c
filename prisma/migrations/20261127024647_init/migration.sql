-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'AUDITOR');

-- CreateEnum
CREATE TYPE "CaType" AS ENUM ('ROOT', 'INTERMEDIATE');

-- CreateEnum
CREATE TYPE "CertificateStatus" AS ENUM ('ACTIVE', 'REVOKED', 'ON_HOLD');

-- CreateTable
CREATE TABLE "Organization" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "smtpHost" TEXT,
    "smtpPort" INTEGER,
    "smtpSecure" BOOLEAN NOT NULL DEFAULT false,
    "smtpUser" TEXT,
    "smtpPassword" BYTEA,
    "smtpFrom" TEXT,
    "eventRetentionDays" INTEGER,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "lastSignInAt" TIMESTAMP(3),

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SignInThrottle" (
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "windowStart" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedUntil" TIMESTAMP(3),

    CONSTRAINT "SignInThrottle_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "role" "Role" NOT NULL,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Event" (
    "id" BIGSERIAL NOT NULL,
    "time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "type" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT,
    "actorName" TEXT,
    "objectType" TEXT,
    "objectId" TEXT,
    "objectName" TEXT,
    "certificateSerial" TEXT,
    "deviceSerial" TEXT,
    "summary" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaKey" (
    "id" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "sealedKey" BYTEA NOT NULL,
    "wrappedDek" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CaKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CertificateAuthority" (
    "id" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "type" "CaType" NOT NULL,
    "parentId" TEXT,
    "generatedVia" TEXT NOT NULL,
    "commonName" TEXT NOT NULL,
    "keyAlgorithm" TEXT NOT NULL,
    "signatureAlgorithm" TEXT NOT NULL,
    "validityYears" INTEGER NOT NULL,
    "isDefault" BOOLEAN NOT NULL DEFAULT false,
    "keyId" TEXT NOT NULL,
    "certificatePem" TEXT NOT NULL,
    "subjectDn" TEXT NOT NULL,
    "serialNumber" TEXT NOT NULL,
    "notBefore" TIMESTAMP(3) NOT NULL,
    "notAfter" TIMESTAMP(3) NOT NULL,
    "sha256Fingerprint" TEXT NOT NULL,
    "expiryNotificationDays" INTEGER,
    "notifyOnEnrollment" BOOLEAN NOT NULL DEFAULT false,
    "revokeUnusedDays" INTEGER,
    "revokeSinceLastUsage" BOOLEAN NOT NULL DEFAULT false,
    "revokeSinceIssuance" BOOLEAN NOT NULL DEFAULT false,
    "revocationReason" TEXT NOT NULL DEFAULT 'unspecified',
    "crlNumber" BIGINT NOT NULL DEFAULT 0,
    "crlDer" BYTEA,
    "crlThisUpdate" TIMESTAMP(3),
    "crlNextUpdate" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CertificateAuthority_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CertificateTemplate" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "validityDays" INTEGER NOT NULL,
    "overrideValidity" BOOLEAN NOT NULL DEFAULT false,
    "overrideNotAfter" TIMESTAMP(3),
    "signatureAlgorithm" TEXT NOT NULL DEFAULT 'SHA-256',
    "sanOtherName" TEXT NOT NULL DEFAULT '',
    "sanRfc822" TEXT NOT NULL DEFAULT '',
    "sanDns" TEXT NOT NULL DEFAULT '',
    "sanUri" TEXT NOT NULL DEFAULT '',
    "extendedKeyUsages" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CertificateTemplate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Certificate" (
    "id" TEXT NOT NULL,
    "serialNumber" TEXT NOT NULL,
    "caId" TEXT NOT NULL,
    "templateId" TEXT,
    "platformId" TEXT,
    "enrollmentPolicyId" TEXT,
    "acmeOrderId" TEXT,
    "subjectDn" TEXT NOT NULL,
    "sans" JSONB NOT NULL DEFAULT '[]',
    "emailAddress" TEXT,
    "deviceSerial" TEXT,
    "deviceUdid" TEXT,
    "pem" TEXT NOT NULL,
    "sha256Fingerprint" TEXT NOT NULL,
    "notBefore" TIMESTAMP(3) NOT NULL,
    "notAfter" TIMESTAMP(3) NOT NULL,
    "issuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "status" "CertificateStatus" NOT NULL DEFAULT 'ACTIVE',
    "revokedAt" TIMESTAMP(3),
    "revocationReason" TEXT,
    "lastSeenAt" TIMESTAMP(3),
    "expiryNotifiedAt" TIMESTAMP(3),

    CONSTRAINT "Certificate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeviceManagementPlatform" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "type" TEXT NOT NULL,
    "vendor" TEXT NOT NULL,
    "enrollmentSecret" TEXT NOT NULL,
    "secretRotatedAt" TIMESTAMP(3),
    "allowServerNames" BOOLEAN NOT NULL DEFAULT false,
    "defaultCaId" TEXT,
    "defaultTemplateId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DeviceManagementPlatform_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KeyAttestationPlatform" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "type" TEXT NOT NULL DEFAULT 'apple',
    "testTrustedRoots" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "KeyAttestationPlatform_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CorePlatform" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "type" TEXT NOT NULL DEFAULT 'generic-http',
    "authMethod" TEXT NOT NULL DEFAULT 'none',
    "secret" BYTEA,
    "basicUsername" TEXT,
    "apiKeyHeader" TEXT,
    "uri" TEXT NOT NULL DEFAULT '',
    "validationRules" JSONB NOT NULL DEFAULT '[]',
    "attributeMappings" JSONB NOT NULL DEFAULT '[]',
    "groupsPath" TEXT,
    "timeoutMs" INTEGER NOT NULL DEFAULT 5000,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CorePlatform_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SecuritySignalSource" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "lookupPurpose" TEXT NOT NULL,
    "corePlatformId" TEXT,
    "identityType" TEXT NOT NULL DEFAULT 'csr',
    "identityAttribute" TEXT NOT NULL DEFAULT '/attestation/serialNumber',
    "revokeOnFailure" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SecuritySignalSource_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PolicyWorkflow" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "corePlatformId" TEXT,
    "attributeConditions" JSONB NOT NULL DEFAULT '[]',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PolicyWorkflow_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DeviceRole" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "keyAttestationPlatformId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DeviceRole_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EnrollmentPolicy" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "priority" INTEGER NOT NULL DEFAULT 100,
    "policyWorkflowId" TEXT,
    "deviceRoleId" TEXT,
    "caId" TEXT,
    "templateId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EnrollmentPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AcmeNonce" (
    "value" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AcmeNonce_pkey" PRIMARY KEY ("value")
);

-- CreateTable
CREATE TABLE "AcmeAccount" (
    "id" TEXT NOT NULL,
    "platformId" TEXT NOT NULL,
    "jwkThumbprint" TEXT NOT NULL,
    "jwk" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'valid',
    "contact" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AcmeAccount_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AcmeOrder" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "identifiers" JSONB NOT NULL,
    "notBefore" TIMESTAMP(3),
    "notAfter" TIMESTAMP(3),
    "expires" TIMESTAMP(3) NOT NULL,
    "error" JSONB,
    "certificateId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AcmeOrder_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AcmeAuthorization" (
    "id" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "identifierType" TEXT NOT NULL,
    "identifierValue" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "expires" TIMESTAMP(3) NOT NULL,
    "wildcard" BOOLEAN NOT NULL DEFAULT false,
    "attestedKeySpki" TEXT,
    "attestation" JSONB,

    CONSTRAINT "AcmeAuthorization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AcmeChallenge" (
    "id" TEXT NOT NULL,
    "authorizationId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "validated" TIMESTAMP(3),
    "error" JSONB,

    CONSTRAINT "AcmeChallenge_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_hash_key" ON "ApiToken"("hash");

-- CreateIndex
CREATE INDEX "Event_time_id_idx" ON "Event"("time" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "Event_type_time_idx" ON "Event"("type", "time" DESC);

-- CreateIndex
CREATE INDEX "Event_outcome_time_idx" ON "Event"("outcome", "time" DESC);

-- CreateIndex
CREATE INDEX "Event_deviceSerial_idx" ON "Event"("deviceSerial");

-- CreateIndex
CREATE INDEX "Event_certificateSerial_idx" ON "Event"("certificateSerial");

-- CreateIndex
CREATE INDEX "Event_actorName_idx" ON "Event"("actorName");

-- CreateIndex
CREATE INDEX "Event_objectId_idx" ON "Event"("objectId");

-- CreateIndex
CREATE UNIQUE INDEX "CertificateAuthority_keyId_key" ON "CertificateAuthority"("keyId");

-- CreateIndex
CREATE UNIQUE INDEX "CertificateTemplate_name_key" ON "CertificateTemplate"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Certificate_serialNumber_key" ON "Certificate"("serialNumber");

-- CreateIndex
CREATE UNIQUE INDEX "Certificate_acmeOrderId_key" ON "Certificate"("acmeOrderId");

-- CreateIndex
CREATE INDEX "Certificate_caId_status_idx" ON "Certificate"("caId", "status");

-- CreateIndex
CREATE INDEX "Certificate_deviceSerial_idx" ON "Certificate"("deviceSerial");

-- CreateIndex
CREATE INDEX "Certificate_notAfter_idx" ON "Certificate"("notAfter");

-- CreateIndex
CREATE INDEX "Certificate_subjectDn_idx" ON "Certificate"("subjectDn");

-- CreateIndex
CREATE INDEX "Certificate_issuedAt_idx" ON "Certificate"("issuedAt" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "DeviceManagementPlatform_name_key" ON "DeviceManagementPlatform"("name");

-- CreateIndex
CREATE UNIQUE INDEX "DeviceManagementPlatform_enrollmentSecret_key" ON "DeviceManagementPlatform"("enrollmentSecret");

-- CreateIndex
CREATE UNIQUE INDEX "KeyAttestationPlatform_name_key" ON "KeyAttestationPlatform"("name");

-- CreateIndex
CREATE UNIQUE INDEX "CorePlatform_name_key" ON "CorePlatform"("name");

-- CreateIndex
CREATE UNIQUE INDEX "SecuritySignalSource_name_key" ON "SecuritySignalSource"("name");

-- CreateIndex
CREATE UNIQUE INDEX "PolicyWorkflow_name_key" ON "PolicyWorkflow"("name");

-- CreateIndex
CREATE UNIQUE INDEX "DeviceRole_name_key" ON "DeviceRole"("name");

-- CreateIndex
CREATE UNIQUE INDEX "EnrollmentPolicy_name_key" ON "EnrollmentPolicy"("name");

-- CreateIndex
CREATE INDEX "AcmeNonce_createdAt_idx" ON "AcmeNonce"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "AcmeAccount_platformId_jwkThumbprint_key" ON "AcmeAccount"("platformId", "jwkThumbprint");

-- CreateIndex
CREATE INDEX "AcmeOrder_accountId_idx" ON "AcmeOrder"("accountId");

-- CreateIndex
CREATE INDEX "AcmeAuthorization_orderId_idx" ON "AcmeAuthorization"("orderId");

-- CreateIndex
CREATE INDEX "AcmeChallenge_authorizationId_idx" ON "AcmeChallenge"("authorizationId");

-- AddForeignKey
ALTER TABLE "ApiToken" ADD CONSTRAINT "ApiToken_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CertificateAuthority" ADD CONSTRAINT "CertificateAuthority_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "CertificateAuthority"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Certificate" ADD CONSTRAINT "Certificate_caId_fkey" FOREIGN KEY ("caId") REFERENCES "CertificateAuthority"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Certificate" ADD CONSTRAINT "Certificate_templateId_fkey" FOREIGN KEY ("templateId") REFERENCES "CertificateTemplate"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SecuritySignalSource" ADD CONSTRAINT "SecuritySignalSource_corePlatformId_fkey" FOREIGN KEY ("corePlatformId") REFERENCES "CorePlatform"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PolicyWorkflow" ADD CONSTRAINT "PolicyWorkflow_corePlatformId_fkey" FOREIGN KEY ("corePlatformId") REFERENCES "CorePlatform"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DeviceRole" ADD CONSTRAINT "DeviceRole_keyAttestationPlatformId_fkey" FOREIGN KEY ("keyAttestationPlatformId") REFERENCES "KeyAttestationPlatform"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EnrollmentPolicy" ADD CONSTRAINT "EnrollmentPolicy_policyWorkflowId_fkey" FOREIGN KEY ("policyWorkflowId") REFERENCES "PolicyWorkflow"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EnrollmentPolicy" ADD CONSTRAINT "EnrollmentPolicy_deviceRoleId_fkey" FOREIGN KEY ("deviceRoleId") REFERENCES "DeviceRole"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AcmeOrder" ADD CONSTRAINT "AcmeOrder_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "AcmeAccount"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AcmeAuthorization" ADD CONSTRAINT "AcmeAuthorization_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "AcmeOrder"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AcmeChallenge" ADD CONSTRAINT "AcmeChallenge_authorizationId_fkey" FOREIGN KEY ("authorizationId") REFERENCES "AcmeAuthorization"("id") ON DELETE CASCADE ON UPDATE CASCADE;
