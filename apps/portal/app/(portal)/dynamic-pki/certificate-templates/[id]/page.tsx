import { notFound } from "next/navigation";
import { getTemplate, templateSources, templateUsage } from "@attested/ca";
import { listCorePlatforms } from "@attested/policy";
import { Card, PageHeader } from "@/components/ui";
import { caContext } from "@/lib/ca";
import { requireReader } from "@/lib/session";
import { DeleteTemplateForm, TemplateForm } from "../template-form";
import { NotFoundError } from "@attested/errors";

export default async function TemplatePage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ saved?: string }> }) {
  const actor = await requireReader();
  const { id } = await params;
  const ctx = await caContext();
  const t = await getTemplate(ctx, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const usedBy = await templateUsage(ctx, id);
  const admin = actor.role === "ADMIN";
  // Preview for a real device calls a Core Platform with its credential: admins only. The template's own first.
  const used = new Set((await templateSources(ctx, id)).map((s) => s.corePlatform));
  const corePlatforms = admin
    ? (await listCorePlatforms(ctx.db)).map((c) => ({ id: c.id, name: c.name })).sort((a, b) => Number(used.has(b.name)) - Number(used.has(a.name)))
    : [];
  return (
    <>
      <PageHeader
        title={t.name}
        crumbs={[{ label: "Dynamic PKI" }, { label: "Certificate Authorities", href: "/dynamic-pki/certificate-authorities" }, { label: t.name }]}
        description={t.description}
      />
      {(await searchParams).saved && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Certificate template saved.
        </div>
      )}
      <Card>
        <TemplateForm
          readOnly={!admin}
          corePlatforms={corePlatforms}
          initial={{
            id: t.id,
            name: t.name,
            subject: t.subject,
            description: t.description,
            validityDays: t.validityDays?.toString() ?? "",
            overrideValidity: t.overrideValidity,
            overrideNotAfter: t.overrideNotAfter?.toISOString().slice(0, 10) ?? "",
            signatureAlgorithm: t.signatureAlgorithm,
            sanOtherName: t.sanOtherName,
            sanRfc822: t.sanRfc822,
            sanDns: t.sanDns,
            sanUri: t.sanUri,
            allowCsrSans: t.allowCsrSans,
            extendedKeyUsages: t.extendedKeyUsages,
          }}
        />
      </Card>
      <Card title="Used by" className="mt-6">
        {usedBy.length ? (
          <ul className="list-disc pl-5 text-sm">
            {usedBy.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-500">Not used by any policy or platform.</p>
        )}
        {admin && usedBy.length === 0 && (
          <div className="mt-4">
            <DeleteTemplateForm id={t.id} name={t.name} />
          </div>
        )}
      </Card>
    </>
  );
}
