import type { CertificateTemplate, Prisma } from "@attested/db";
import { EventType, inTransaction, recordEvent, type Actor } from "@attested/events";
import { assertCanWrite } from "@attested/identity";
import { deviceVariables, previewTemplate, templateInputSchema, type TemplateContext, type TemplatePreview, type TemplateSource } from "@attested/pki";
import type { CaContext } from "./context";
import { DomainError, NotFoundError } from "@attested/errors";

export const listTemplates = (ctx: CaContext): Promise<CertificateTemplate[]> => ctx.db.certificateTemplate.findMany({ orderBy: { name: "asc" } });

export async function getTemplate(ctx: CaContext, id: string): Promise<CertificateTemplate> {
  const t = /^[0-9a-f-]{36}$/.test(id) ? await ctx.db.certificateTemplate.findUnique({ where: { id } }) : null;
  if (!t) throw new NotFoundError("Certificate Template");
  return t;
}

function toRow(input: unknown) {
  const t = templateInputSchema.parse(input);
  return {
    name: t.name,
    subject: t.subject,
    description: t.description,
    validityDays: t.validityDays ?? null,
    overrideValidity: t.overrideValidity,
    overrideNotAfter: t.overrideValidity ? (t.overrideNotAfter ?? null) : null,
    signatureAlgorithm: t.signatureAlgorithm,
    sanOtherName: t.sanOtherName,
    sanRfc822: t.sanRfc822,
    sanDns: t.sanDns,
    sanUri: t.sanUri,
    allowCsrSans: t.allowCsrSans,
    extendedKeyUsages: t.extendedKeyUsages,
  } satisfies Prisma.CertificateTemplateCreateInput;
}

async function assertNameFree(ctx: CaContext, name: string, exceptId?: string) {
  const other = await ctx.db.certificateTemplate.findUnique({ where: { name } });
  if (other && other.id !== exceptId) throw new DomainError("A certificate template with this name already exists", 409, "name");
}

/** "Add Certificate Template". */
export async function createTemplate(ctx: CaContext, actor: Actor, input: unknown): Promise<CertificateTemplate> {
  await assertCanWrite(ctx.db, actor, "create certificate templates");
  const data = toRow(input);
  await assertNameFree(ctx, data.name);
  return inTransaction(ctx.db, async (tx) => {
    const t = await tx.certificateTemplate.create({ data });
    await recordEvent(tx, {
      type: EventType.TemplateCreated,
      outcome: "success",
      actor,
      object: { type: "certificate-template", id: t.id, name: t.name },
      summary: `Certificate template "${t.name}" created`,
      details: { ...data },
    });
    return t;
  });
}

export async function updateTemplate(ctx: CaContext, actor: Actor, id: string, input: unknown): Promise<CertificateTemplate> {
  await assertCanWrite(ctx.db, actor, "change certificate templates");
  const before = await getTemplate(ctx, id);
  const data = toRow(input);
  await assertNameFree(ctx, data.name, id);
  return inTransaction(ctx.db, async (tx) => {
    const t = await tx.certificateTemplate.update({ where: { id }, data });
    await recordEvent(tx, {
      type: EventType.TemplateUpdated,
      outcome: "success",
      actor,
      object: { type: "certificate-template", id, name: t.name },
      summary: `Certificate template "${t.name}" updated`,
      details: { before: { ...before, createdAt: undefined, updatedAt: undefined }, after: data },
    });
    return t;
  });
}

/** Where a template is used; an object in use cannot be deleted. */
export async function templateUsage(ctx: CaContext, id: string): Promise<string[]> {
  const [policies, platforms] = await Promise.all([
    ctx.db.enrollmentPolicy.findMany({ where: { templateId: id }, select: { name: true } }),
    ctx.db.deviceManagementPlatform.findMany({ where: { defaultTemplateId: id }, select: { name: true } }),
  ]);
  return [...policies.map((p) => `Enrollment Policy "${p.name}"`), ...platforms.map((p) => `Device Management Platform "${p.name}"`)];
}

export async function deleteTemplate(ctx: CaContext, actor: Actor, id: string): Promise<void> {
  await assertCanWrite(ctx.db, actor, "delete certificate templates");
  const t = await getTemplate(ctx, id);
  const usedBy = await templateUsage(ctx, id);
  if (usedBy.length) throw new DomainError(`The template is used by ${usedBy.join(", ")}`, 409);
  await inTransaction(ctx.db, async (tx) => {
    await tx.certificateTemplate.delete({ where: { id } });
    await recordEvent(tx, {
      type: EventType.TemplateDeleted,
      outcome: "success",
      actor,
      object: { type: "certificate-template", id, name: t.name },
      summary: `Certificate template "${t.name}" deleted`,
    });
  });
}

/** The preview button: renders the form's template against a sample Apple device, or a given context. Reads only. */
export const previewTemplateInput = (input: unknown, context?: TemplateContext): TemplatePreview => previewTemplate(input, context);

/**
 * How a template reaches devices, with what fills `/device` on each way: the Enrollment Policies using it
 * (their Policy Workflow's Core Platform and its mapped attribute names) and the Device Management
 * Platforms whose defaults name it (which look nothing up).
 */
export async function templateSources(ctx: CaContext, id: string): Promise<TemplateSource[]> {
  const [policies, platforms] = await Promise.all([
    ctx.db.enrollmentPolicy.findMany({
      where: { templateId: id },
      orderBy: { name: "asc" },
      select: { name: true, policyWorkflow: { select: { corePlatform: { select: { name: true, attributeMappings: true } } } } },
    }),
    ctx.db.deviceManagementPlatform.findMany({ where: { defaultTemplateId: id }, orderBy: { name: "asc" }, select: { name: true } }),
  ]);
  return [
    ...policies.map((p) => {
      const cp = p.policyWorkflow?.corePlatform;
      const mappings = Array.isArray(cp?.attributeMappings) ? (cp.attributeMappings as { attribute?: unknown }[]) : [];
      return {
        via: `Enrollment Policy "${p.name}"`,
        corePlatform: cp?.name ?? null,
        attributes: cp ? mappings.map((m) => m?.attribute).filter((a): a is string => typeof a === "string") : null,
      };
    }),
    ...platforms.map((p) => ({ via: `Device Management Platform "${p.name}"`, corePlatform: null, attributes: null })),
  ];
}

/**
 * For a Device Management Platform that lets standard ACME clients in: its default template and the
 * Enrollment Policies' templates that read `/csr/san/...` or `/device/...`, with those variables.
 */
export async function serverNameTemplateWarnings(
  ctx: CaContext,
  platform: { allowServerNames: boolean; defaultTemplateId: string | null },
): Promise<{ name: string; variables: string[] }[]> {
  if (!platform.allowServerNames) return [];
  const policies = await ctx.db.enrollmentPolicy.findMany({ where: { templateId: { not: null } }, select: { templateId: true } });
  const ids = [platform.defaultTemplateId, ...policies.map((p) => p.templateId)].filter((id): id is string => Boolean(id));
  const templates = await ctx.db.certificateTemplate.findMany({ where: { id: { in: ids } }, orderBy: { name: "asc" } });
  return templates.map((t) => ({ name: t.name, variables: deviceVariables(t) })).filter((w) => w.variables.length);
}
