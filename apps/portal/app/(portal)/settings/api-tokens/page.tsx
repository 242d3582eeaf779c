import { API_TOKEN_DEFAULT_DAYS, listApiTokens } from "@attested/identity";
import { Badge, Card, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { CreateTokenForm, RevokeTokenForm } from "./forms";

export const metadata = { title: "API Tokens" };

export default async function ApiTokensPage() {
  const actor = await requireReader();
  const tokens = await listApiTokens(await getDb());
  const admin = actor.role === "ADMIN";
  const now = new Date();
  return (
    <>
      <PageHeader
        title="API Tokens"
        crumbs={[{ label: "Settings" }, { label: "API Tokens" }]}
        description={
          <>
            Bearer tokens for the REST API under <code>/api/v1/</code> (OpenAPI:{" "}
            <a className="link underline" href="/api/v1/openapi.json">
              /api/v1/openapi.json
            </a>
            ). Only a hash is stored. A token stops working when it expires, is revoked, or when the user who made it is disabled or no longer has its scope's
            role.
          </>
        }
      />
      {tokens.length === 0 ? (
        <EmptyState title="No API tokens yet">Create one to automate with the REST API.</EmptyState>
      ) : (
        <div className="card mb-6 overflow-x-auto">
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Token</th>
                <th>Scope</th>
                <th>Created</th>
                <th>Last used</th>
                <th>Expires</th>
                <th>Status</th>
                {admin && <th />}
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td className="font-mono text-xs">{t.prefix}…</td>
                  <td>{t.role === "ADMIN" ? "Admin" : "Auditor"}</td>
                  <td className="text-xs">{formatTime(t.createdAt)}</td>
                  <td className="text-xs">{formatTime(t.lastUsedAt)}</td>
                  <td className="text-xs">{formatTime(t.expiresAt)}</td>
                  <td>
                    {t.revokedAt ? (
                      <Badge color="red">Revoked</Badge>
                    ) : t.expiresAt <= now ? (
                      <Badge color="amber">Expired</Badge>
                    ) : (
                      <Badge color="green">Active</Badge>
                    )}
                  </td>
                  {admin && <td>{!t.revokedAt && <RevokeTokenForm id={t.id} name={t.name} />}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {admin && (
        <Card title="Add API token" className="mt-6">
          <CreateTokenForm defaultDays={API_TOKEN_DEFAULT_DAYS} />
        </Card>
      )}
    </>
  );
}
