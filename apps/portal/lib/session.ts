import { redirect } from "next/navigation";
import { assertCanWrite, sessionOf, type Actor } from "@attested/identity";
import { auth } from "./auth";
import { getDb } from "./db";

/**
 * The signed-in session; role, disabled state and the session version are read fresh from the database
 * on every request, so an ended session (sign-out, password, role, disable) stops at once.
 */
async function currentSession() {
  const session = await auth();
  const id = session?.user?.id;
  if (!id) return null;
  return sessionOf(await getDb(), id, session.sessionVersion);
}

/** The signed-in user as an actor, if they may use the portal (an admin owing a second factor may not yet). */
export async function currentActor(): Promise<Actor | null> {
  const s = await currentSession();
  return s && !s.secondFactorMissing ? s.actor : null;
}

/** Any signed-in user, even one who must still set up a second factor: for Settings > Account only. */
export async function requireSignedIn(): Promise<Actor> {
  const s = await currentSession();
  if (!s) redirect("/sign-in");
  return s.actor;
}

/** For pages: admins and auditors read; anyone else goes to the sign-in page. */
export async function requireReader(): Promise<Actor> {
  const s = await currentSession();
  if (!s) redirect("/sign-in");
  if (s.secondFactorMissing) redirect("/settings/account");
  return s.actor;
}

/** For server actions that change something: enforced here, whatever the page showed. */
export async function requireWriter(action: string): Promise<Actor> {
  const actor = await requireReader();
  await assertCanWrite(await getDb(), actor, action);
  return actor;
}

/** For pages that only make sense for writers (the "Add" forms): auditors go back to reading. */
export async function requireWriterPage(): Promise<Actor> {
  const actor = await requireReader();
  if (actor.role !== "ADMIN") redirect("/");
  return actor;
}
