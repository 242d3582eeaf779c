import { notFound } from "next/navigation";
import { serverNameTemplateWarnings } from "@attested/ca";
import {
  getPlatform,
  issuingChains,
  kandjiBlueprints,
  platformProfileContents,
  profileFilename,
  publishingCorePlatforms,
  publishStatus,
  readNetworkPayloads,
  VENDORS,
  type Vendor,
} from "@attested/platforms";
import { Card, DefinitionList, PageHeader, formatTime } from "@/components/ui";
import { caContext } from "@/lib/ca";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { AutoDownload, NetworkPayloadsForm, PlatformSettingsForm, PublishToKandjiForm, RotateSecretForm } from "../forms";
import { NotFoundError } from "@attested/errors";

export default async function PlatformPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ download?: string; core?: string }>;
}) {
  const actor = await requireReader();
  const { id } = await params;
  const db = await getDb();
  const p = await getPlatform(db, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const admin = actor.role === "ADMIN";
  const [cas, templates, warnings, trusted, contents] = await Promise.all([
    db.certificateAuthority.findMany({ select: { id: true, commonName: true }, orderBy: { createdAt: "asc" } }),
    db.certificateTemplate.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } }),
    serverNameTemplateWarnings(await caContext(), p),
    issuingChains(db, p.defaultCaId),
    platformProfileContents(db, p),
  ]);
  const profileHref = `/integration-hub/device-management-platforms/${p.id}/profile`;
  const kandji = p.vendor === "kandji";
  const publish = kandji ? await publishStatus(db, p.id) : null;
  // The Blueprints are listed from the chosen Core Platform's tenant (admins only: it calls Kandji).
  const { core } = await searchParams;
  const publishCore = typeof core === "string" ? core : (publish?.corePlatformId ?? "");
  const [publishers, blueprints] =
    kandji && admin ? await Promise.all([publishingCorePlatforms(db), publishCore ? kandjiBlueprints(db, publishCore) : null]) : [[], null];
  return (
    <>
      {admin && (await searchParams).download && <AutoDownload href={profileHref} />}
      <PageHeader
        title={p.name}
        crumbs={[
          { label: "Integration Hub" },
          { label: "Device Management Platforms", href: "/integration-hub/device-management-platforms" },
          { label: p.name },
        ]}
        description={p.description}
        actions={
          admin && (
            <a className="btn-primary" href={profileHref} download>
              Download .mobileconfig
            </a>
          )
        }
      />
      {admin && (await searchParams).download && (
        <div
          role="status"
          aria-label="Profile downloaded"
          className="mb-6 rounded-md border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm text-emerald-900"
        >
          <p className="font-medium">
            Platform saved. Your browser is downloading <span className="font-mono">{profileFilename(p.name)}</span>: the enrollment profile (an ACME payload
            with this platform&apos;s directory URL and enrollment secret, and the CA chains devices should trust).
          </p>
          <p className="mt-1">
            Next, in Kandji: <strong>Library &gt; Add new &gt; Custom profile</strong>, assign it to your Blueprint and upload this file in the Profile section,
            then Save. Didn&apos;t get the file?{" "}
            <a className="link" href={profileHref} download>
              Download it again
            </a>
            .
          </p>
        </div>
      )}
      {warnings.length > 0 && (
        <div
          role="alert"
          aria-label="Standard ACME clients and device templates"
          className="mb-6 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900"
        >
          <p className="font-medium">Standard ACME clients are allowed, and these templates read values only an Apple device or its MDM supply:</p>
          <ul className="mt-1 list-disc pl-5">
            {warnings.map((w) => (
              <li key={w.name}>
                &quot;{w.name}&quot;: <span className="font-mono">{w.variables.join(", ")}</span>
              </li>
            ))}
          </ul>
          <p className="mt-1">
            A standard client proves only DNS names and IP addresses: /device values are left out of its certificates and /csr/san gives only the names it
            proved. Give this platform a template made for server names, or turn standard clients off.
          </p>
        </div>
      )}
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
        <Card title="Basic">
          <DefinitionList
            items={[
              ["Type", "ACME Client Certificate Enrollment Token"],
              ["Vendor", VENDORS[p.vendor as Vendor]?.label ?? p.vendor],
              ["Device identity", `${VENDORS[p.vendor as Vendor]?.serial} (serial number, filled in by the MDM)`],
              ["Key", "ECSECPrimeRandom 384, hardware-bound, attested"],
              ["Created", formatTime(p.createdAt)],
              ["Enrollment secret rotated", formatTime(p.secretRotatedAt)],
            ]}
          />
        </Card>
        <Card title="Settings">
          <PlatformSettingsForm p={p} readOnly={!admin} cas={cas.map((c) => ({ id: c.id, name: c.commonName }))} templates={templates} />
        </Card>
      </div>
      <Card title="Profile" className="mt-6">
        {trusted.length > 0 ? (
          <p className="text-sm text-slate-600">
            The .mobileconfig installs the ACME payload and the chains of the CAs that can issue to this platform&apos;s devices:{" "}
            <span data-testid="profile-cas">{trusted.map((c) => c.commonName).join(", ")}</span>.
          </p>
        ) : (
          <p role="status" className="text-sm text-amber-900">
            The .mobileconfig installs no CA certificate yet: no default Certificate Authority is chosen in Settings and no Enrollment Policy names one. Devices
            still enroll; download the profile again once one is chosen and replace it in the MDM, so that devices also trust the chain of their certificates.
          </p>
        )}
        <table className="mt-4 w-full text-left text-sm" aria-label="Profile contents">
          <caption className="mb-2 text-left text-sm font-medium text-slate-800">What the device installs</caption>
          <thead className="text-xs uppercase text-slate-500">
            <tr>
              <th className="py-1 pr-4 font-medium">Payload</th>
              <th className="py-1 pr-4 font-medium">Type</th>
              <th className="py-1 font-medium">What it does</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {contents.map((c, i) => (
              <tr key={`${c.payloadType}-${i}`}>
                <td className="py-1.5 pr-4">{c.displayName}</td>
                <td className="py-1.5 pr-4 font-mono text-xs text-slate-600">{c.payloadType}</td>
                <td className="py-1.5 text-slate-700">{c.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
      <Card title="Network payloads" className="mt-6">
        <p className="mb-3 text-sm text-slate-600">
          A Wi-Fi, Ethernet or VPN payload can use a certificate only from its own profile: these go into this profile and use the ACME certificate as their
          identity. A separate Wi-Fi library item in the MDM cannot.
        </p>
        <NetworkPayloadsForm
          id={p.id}
          n={readNetworkPayloads(p.networkPayloads)}
          serialVariable={VENDORS[p.vendor as Vendor]?.serial ?? "serial number"}
          readOnly={!admin}
        />
      </Card>
      {publish && (
        <Card title="Publish to Kandji" className="mt-6">
          {publish.error && (
            <div role="alert" aria-label="Publishing failed" className="mb-4 rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900">
              <p className="font-medium">The last publish to Kandji failed ({formatTime(publish.errorAt)}):</p>
              <p data-testid="publish-error">{publish.error}</p>
              <p className="mt-1">Kandji still holds the profile published before. Publish again once the cause is fixed.</p>
            </div>
          )}
          {publish.previousSecret && !publish.previousSecret.expired && (
            <p role="status" data-testid="previous-secret" className="mb-4 rounded-md border border-sky-200 bg-sky-50 px-4 py-3 text-sm text-sky-900">
              {publish.previousSecret.validUntil
                ? `Grace period: the previous enrollment secret still enrolls until ${formatTime(publish.previousSecret.validUntil)}, while devices receive the new profile from Kandji.`
                : "The previous enrollment secret still enrolls: the new profile is not published to Kandji yet."}
            </p>
          )}
          <p className="mb-3 text-sm text-slate-600">
            Creates the profile as a Custom Profile in the Kandji Library, or updates it, and assigns it to the Blueprints chosen here. Rotating the enrollment
            secret publishes it again.
          </p>
          <DefinitionList
            items={[
              ["Core Platform", publish.corePlatformName ?? "None"],
              [
                "Blueprints",
                publish.blueprintIds.length > 0
                  ? publish.blueprintIds
                      .map((b) => (blueprints && "blueprints" in blueprints ? blueprints.blueprints.find((k) => k.id === b)?.name : null) ?? b)
                      .join(", ")
                  : "None",
              ],
              ["Kandji Library item", publish.libraryItemId ?? "Not published"],
              ["Last published", formatTime(publish.publishedAt)],
            ]}
          />
          {admin && (
            <div className="mt-4">
              <PublishToKandjiForm
                id={p.id}
                corePlatforms={publishers}
                corePlatformId={publishCore}
                blueprints={blueprints && "error" in blueprints ? blueprints : (blueprints?.blueprints ?? null)}
                blueprintIds={publish.blueprintIds}
              />
            </div>
          )}
        </Card>
      )}
      {admin && (
        <Card title="Enrollment secret" className="mt-6">
          <p className="mb-3 text-sm text-slate-600">
            {publish?.corePlatformId
              ? "The profile's ACME directory URL carries this platform's enrollment secret. Rotating it publishes the new profile to Kandji; the previous secret enrolls until then and for the grace period after."
              : "The profile's ACME directory URL carries this platform's enrollment secret. Rotate it if a profile leaked: profiles downloaded before stop working."}
          </p>
          <RotateSecretForm id={p.id} published={Boolean(publish?.corePlatformId)} />
        </Card>
      )}
    </>
  );
}
