import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { NEW_TEMPLATE, TemplateForm } from "../template-form";

export const metadata = { title: "Add Certificate Template" };

export default async function NewTemplatePage() {
  await requireWriterPage();
  return (
    <>
      <PageHeader
        title="Add Certificate Template"
        crumbs={[
          { label: "Dynamic PKI" },
          { label: "Certificate Authorities", href: "/dynamic-pki/certificate-authorities" },
          { label: "Add Certificate Template" },
        ]}
        description="How information is encoded in the certificates a CA issues. Use Preview to see the result for a sample device before saving."
      />
      <Card>
        <TemplateForm initial={NEW_TEMPLATE} />
      </Card>
    </>
  );
}
