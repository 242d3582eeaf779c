import { listCas } from "@attested/ca";
import { getMailSettings } from "@attested/lifecycle";
import { Card, PageHeader } from "@/components/ui";
import { caContext } from "@/lib/ca";
import { getDb } from "@/lib/db";
import { requireWriterPage } from "@/lib/session";
import { AddCaForm } from "../ca-form";

export const metadata = { title: "Add Certificate Authority" };

export default async function NewCaPage() {
  await requireWriterPage();
  const ctx = await caContext();
  const [cas, mail] = await Promise.all([listCas(ctx), getMailSettings(await getDb())]);
  return (
    <>
      <PageHeader
        title="Add Certificate Authority"
        crumbs={[{ label: "Dynamic PKI" }, { label: "Certificate Authorities", href: "/dynamic-pki/certificate-authorities" }, { label: "Add" }]}
      />
      <Card>
        <AddCaForm
          parents={cas.filter((c) => c.notAfter > new Date()).map((c) => ({ id: c.id, name: c.commonName, isDefault: c.isDefault }))}
          mailConfigured={mail.configured}
          hsm={ctx.hsm?.tokenDescription ?? null}
        />
      </Card>
    </>
  );
}
