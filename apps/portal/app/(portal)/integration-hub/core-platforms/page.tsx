import Link from "next/link";
import { AUTH_METHOD_LABELS, rulesPinIdentity, type AuthMethod } from "@attested/integrations";
import { corePlatformUsage, identityVariables, listCorePlatforms, DEFAULT_IDENTITY_ATTRIBUTE } from "@attested/policy";
import { Badge, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Core Platforms" };

export default async function CorePlatformsPage() {
  const actor = await requireReader();
  const db = await getDb();
  const platforms = await listCorePlatforms(db);
  const usage = await Promise.all(platforms.map((p) => corePlatformUsage(db, p.id)));
  const add = actor.role === "ADMIN" && (
    <Link className="btn-primary" href="/integration-hub/core-platforms/new">
      Add
    </Link>
  );
  return (
    <>
      <PageHeader
        title="Core Platforms"
        crumbs={[{ label: "Integration Hub" }, { label: "Core Platforms" }]}
        description="Identity providers and signal sources: a Generic HTTP source looks each enrolling device up in your MDM (e.g. Kandji's device API)."
        actions={add}
      />
      {platforms.length === 0 ? (
        <EmptyState title="No Core Platforms yet" action={add}>
          Add a Generic HTTP Signal Source to look devices up in Kandji during enrollment.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="core-platform-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Authentication</th>
                <th>URI</th>
                <th>Exact match</th>
                <th>Used by</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {platforms.map((p, i) => (
                <tr key={p.id}>
                  <td>
                    <Link className="link font-medium" href={`/integration-hub/core-platforms/${p.id}`}>
                      {p.name}
                    </Link>
                    <div className="text-xs text-slate-500">{p.description}</div>
                    {p.alert && (
                      <span title={`The MDM refuses its credentials: ${p.alert.reason}`}>
                        <Badge color="red">Credentials refused</Badge>
                      </span>
                    )}
                  </td>
                  <td>Generic HTTP</td>
                  <td>
                    {AUTH_METHOD_LABELS[p.authMethod as AuthMethod] ?? p.authMethod}
                    {p.hasSecret && <span className="ml-1 text-xs text-slate-500">(stored)</span>}
                  </td>
                  <td className="max-w-xs break-all font-mono text-xs">{p.uri || "—"}</td>
                  <td>
                    {!p.uri ? (
                      "—"
                    ) : rulesPinIdentity(p.validationRules, identityVariables(DEFAULT_IDENTITY_ATTRIBUTE)) ? (
                      <Badge color="green">Pinned</Badge>
                    ) : (
                      <Badge color="amber">Not pinned</Badge>
                    )}
                  </td>
                  <td className="text-xs">{usage[i]!.length ? usage[i]!.join(", ") : "—"}</td>
                  <td className="text-xs">{formatTime(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
