import Link from "next/link";
import { listPlatforms, VENDORS, type Vendor } from "@attested/platforms";
import { EmptyState, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";

export const metadata = { title: "Device Management Platforms" };

export default async function PlatformsPage() {
  const actor = await requireReader();
  const platforms = await listPlatforms(await getDb());
  const add = actor.role === "ADMIN" && (
    <Link className="btn-primary" href="/integration-hub/device-management-platforms/new">
      Add
    </Link>
  );
  return (
    <>
      <PageHeader
        title="Device Management Platforms"
        crumbs={[{ label: "Integration Hub" }, { label: "Device Management Platforms" }]}
        description="Each platform is an ACME enrollment endpoint with its own .mobileconfig for your MDM."
        actions={add}
      />
      {platforms.length === 0 ? (
        <EmptyState title="No Device Management Platforms yet" action={add}>
          Add one to get a .mobileconfig that your MDM pushes to devices.
        </EmptyState>
      ) : (
        <div className="card overflow-x-auto">
          <table className="table" data-testid="platform-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Vendor</th>
                <th>Type</th>
                <th>Description</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {platforms.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link className="link font-medium" href={`/integration-hub/device-management-platforms/${p.id}`}>
                      {p.name}
                    </Link>
                  </td>
                  <td>{VENDORS[p.vendor as Vendor]?.label ?? p.vendor}</td>
                  <td>ACME Client Certificate Enrollment Token</td>
                  <td>{p.description}</td>
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
