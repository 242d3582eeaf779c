import Link from "next/link";
import { listKeyAttestationPlatforms, testRootsEnabled } from "@attested/platforms";
import { Badge, EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Key Attestation Platforms" };

export default async function KapListPage() {
  const actor = await requireReader();
  const kaps = await listKeyAttestationPlatforms(await getDb());
  const add = actor.role === "ADMIN" && (
    <Link className="btn-primary" href="/integration-hub/key-attestation-platforms/new">
      Add
    </Link>
  );
  return (
    <>
      <PageHeader
        title="Key Attestation Platforms"
        crumbs={[{ label: "Integration Hub" }, { label: "Key Attestation Platforms" }]}
        description="Who vouches for device keys. Apple platforms trust the Apple Enterprise Attestation Root CA."
        actions={add}
      />
      {kaps.length === 0 ? (
        <EmptyState title="No Key Attestation Platforms yet" action={add}>
          Devices cannot prove their keys until one exists.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="kap-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Trust</th>
                <th>Display Description</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {kaps.map((k) => (
                <tr key={k.id}>
                  <td>
                    <Link className="link font-medium" href={`/integration-hub/key-attestation-platforms/${k.id}`}>
                      {k.name}
                    </Link>
                  </td>
                  <td>Apple</td>
                  <td>
                    {k.testTrustedRoots ? (
                      <Badge color="amber">{testRootsEnabled() ? "Apple + test roots" : "Apple (test roots ignored)"}</Badge>
                    ) : (
                      <Badge color="green">Apple only</Badge>
                    )}
                  </td>
                  <td>{k.description}</td>
                  <td className="text-xs">{formatTime(k.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
