import { listUsers } from "@attested/identity";
import { Badge, Card, PageHeader, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { AddUserForm, ResetPasswordForm, UserRowActions } from "./forms";

export const metadata = { title: "Users" };

export default async function UsersPage() {
  const actor = await requireReader();
  const users = await listUsers(await getDb());
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
                <td>{u.disabled ? <Badge color="red">Disabled</Badge> : <Badge color="green">Active</Badge>}</td>
                <td className="text-xs">{formatTime(u.lastSignInAt)}</td>
                {admin && (
                  <td>
                    <UserRowActions id={u.id} email={u.email} role={u.role} disabled={u.disabled} />
                    <ResetPasswordForm id={u.id} email={u.email} />
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
    </>
  );
}
