import "reflect-metadata";
import { notFound } from "next/navigation";
import { X509Certificate } from "@peculiar/x509";
import { APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM } from "@attested/attestation";
import { getKeyAttestationPlatform, keyAttestationPlatformUsage, storedTestRoots, testRootsEnabled, TEST_ROOTS_OFF } from "@attested/platforms";
import { Badge, Card, DefinitionList, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { TestRootsForm } from "../forms";
import { NotFoundError } from "@attested/errors";

export default async function KapPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<{ saved?: string }> }) {
  const actor = await requireReader();
  const db = await getDb();
  const { id } = await params;
  const k = await getKeyAttestationPlatform(db, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const roots = await Promise.all(
    [APPLE_ENTERPRISE_ATTESTATION_ROOT_CA_PEM, ...storedTestRoots(k)].map(async (pem, i) => {
      const c = new X509Certificate(pem);
      return {
        subject: c.subject,
        notAfter: c.notAfter,
        sha256: Buffer.from(await c.getThumbprint("SHA-256"))
          .toString("hex")
          .toUpperCase()
          .match(/../g)!
          .join(":"),
        test: i > 0,
      };
    }),
  );
  const usedBy = await keyAttestationPlatformUsage(db, id);
  const testRoots = testRootsEnabled();
  return (
    <>
      <PageHeader
        title={k.name}
        crumbs={[{ label: "Integration Hub" }, { label: "Key Attestation Platforms", href: "/integration-hub/key-attestation-platforms" }, { label: k.name }]}
        description={k.description}
      />
      {(await searchParams).saved && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Key Attestation Platform saved.
        </div>
      )}
      <Card title="Trusted roots">
        <ul className="space-y-3" data-testid="trusted-roots">
          {roots.map((r) => (
            <li key={r.sha256} className="text-sm">
              <div className="flex items-center gap-2">
                {!r.test ? (
                  <Badge color="green">Production</Badge>
                ) : testRoots ? (
                  <Badge color="amber">Testing only</Badge>
                ) : (
                  <Badge color="slate">Ignored</Badge>
                )}
                <span className="font-medium">{r.subject}</span>
              </div>
              <p className="mt-1 font-mono text-xs text-slate-500">
                SHA-256 {r.sha256} · valid until {formatTime(r.notAfter)}
              </p>
            </li>
          ))}
        </ul>
        {roots.length > 1 && !testRoots && (
          <p className="mt-3 text-sm text-slate-600" data-testid="test-roots-off">
            {TEST_ROOTS_OFF}
          </p>
        )}
      </Card>
      <Card title="Used by" className="mt-6">
        <DefinitionList items={[["Device Roles", usedBy.length ? usedBy.join(", ") : "None yet"]]} />
      </Card>
      {actor.role === "ADMIN" && (
        <Card title="Testing" className="mt-6 border-amber-300">
          <p className="mb-3 text-sm text-amber-800">
            Trusting any root other than Apple&apos;s lets devices signed by that root enroll. Use this only with the device simulator in a test installation.
          </p>
          <TestRootsForm id={k.id} current={k.testTrustedRoots} readOnlyReason={testRoots ? undefined : TEST_ROOTS_OFF} />
        </Card>
      )}
    </>
  );
}
