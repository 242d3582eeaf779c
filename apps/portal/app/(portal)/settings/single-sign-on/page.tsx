import { formatRoleMappings, getSsoSettings } from "@attested/identity";
import { Badge, Card, PageHeader } from "@/components/ui";
import { publicUrl } from "@/lib/config";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { SsoSettingsForm } from "./forms";

export const metadata = { title: "Single sign-on" };

export default async function SingleSignOnPage() {
  const actor = await requireReader();
  const s = await getSsoSettings(await getDb());
  return (
    <>
      <PageHeader
        title="Single sign-on"
        crumbs={[{ label: "Settings" }, { label: "Single sign-on" }]}
        description="Sign admins and auditors in with your identity provider (OpenID Connect: Entra ID, Okta, Google Workspace, Keycloak…). Their groups give their role at every sign-in."
        actions={<Badge color={s.enabled ? "green" : "slate"}>{s.enabled ? "Single sign-on on" : "Single sign-on off"}</Badge>}
      />
      <Card title="OpenID Connect provider">
        {actor.role !== "ADMIN" && <p className="mb-4 text-sm text-slate-600">Auditors can read these settings; only admins change them.</p>}
        <SsoSettingsForm
          settings={{ ...s, mappings: formatRoleMappings(s.mappings) }}
          callbackUrl={`${await publicUrl()}/api/auth/callback/oidc`}
          readOnly={actor.role !== "ADMIN"}
        />
      </Card>
    </>
  );
}
