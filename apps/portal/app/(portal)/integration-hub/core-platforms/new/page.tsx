import { Card, PageHeader } from "@/components/ui";
import { requireWriterPage } from "@/lib/session";
import { PRESETS } from "@attested/integrations";
import { AddCorePlatformForm, type PresetOption } from "../forms";

export const metadata = { title: "Add Core Platform" };

export default async function NewCorePlatformPage() {
  await requireWriterPage();
  const presets: PresetOption[] = Object.values(PRESETS).map((p) => ({
    id: p.id,
    label: p.label,
    credential: p.credential,
    oauth: p.authMethod === "oauth2",
    fields: p.fields,
  }));
  return (
    <>
      <PageHeader
        title="Add Core Platform"
        crumbs={[{ label: "Integration Hub" }, { label: "Core Platforms", href: "/integration-hub/core-platforms" }, { label: "Add" }]}
        description="Save the Basic section first; the Configuration, API, Attribute Mapping and Groups tabs then appear. A preset (Kandji, Jamf Pro, Microsoft Intune) fills them: add the tenant and its credentials."
      />
      <Card>
        <AddCorePlatformForm presets={presets} />
      </Card>
    </>
  );
}
