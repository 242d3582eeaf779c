import { adminsNeedSecondFactor, listUsers } from "@attested/identity";
import { Badge, Card, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { AddUserForm, RequireSecondFactorForm, ResetPasswordForm, ResetSecondFactorForm, UserRowActions } from "./forms";

export const metadata = { title: "Users" };

export default async function UsersPage() {
  const actor = await requireReader();
  const db = await getDb();
  const users = await listUsers(db);
  const secondFactorRequired = await adminsNeedSecondFactor(db);
  const admin = actor.role === "ADMIN";
  return (
    <>
      <PageHeader
        title="Users"
        crumbs={[{ label: "Settings" }, { label: "Users" }]}
        description="Admins change the configuration; auditors read everything and change nothing."
      />
      <div className="card mb-6 overflow-x-auto">
        <table className="table" data-testid="users-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Two-factor</th>
              <th>Last sign-in</th>
              {admin && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>{u.email}</td>
                <td>
                  <Badge color={u.role === "ADMIN" ? "indigo" : "amber"}>{u.role === "ADMIN" ? "Admin" : "Auditor"}</Badge>
                </td>
                <td>
                  {u.disabled ? <Badge color="red">Disabled</Badge> : <Badge color="green">Active</Badge>}{" "}
                  {u.oidcSubject ? <Badge color="indigo">Single sign-on</Badge> : u.breakGlass ? <Badge color="amber">Break-glass</Badge> : null}
                </td>
                <td>{u.totpEnabledAt ? <Badge color="green">On</Badge> : <Badge color="slate">Off</Badge>}</td>
                <td className="text-xs">{formatTime(u.lastSignInAt)}</td>
                {admin && (
                  <td>
                    <UserRowActions id={u.id} email={u.email} role={u.role} disabled={u.disabled} breakGlass={u.breakGlass} local={!u.oidcSubject} />
                    <ResetPasswordForm id={u.id} email={u.email} />
                    {u.totpEnabledAt && <ResetSecondFactorForm id={u.id} email={u.email} />}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {admin && (
        <Card title="Add user">
          <AddUserForm />
        </Card>
      )}
      <Card title="Two-factor authentication" className="mt-6">
        {admin ? (
          <RequireSecondFactorForm required={secondFactorRequired} />
        ) : (
          <p className="text-sm text-slate-600">
            {secondFactorRequired ? "Required for admins." : "Not required; each user may turn it on in Settings > Account."}
          </p>
        )}
      </Card>
    </>
  );
}
