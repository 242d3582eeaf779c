import { redirect } from "next/navigation";
import { actorForUser, assertCanWrite, type Actor } from "@attested/identity";
import { auth } from "./auth";
import { getDb } from "./db";

/**
 * The signed-in user as an actor; role, disabled state and the session version are read fresh from
 * the database on every request, so an ended session (sign-out, password, role, disable) stops at once.
 */
export async function currentActor(): Promise<Actor | null> {
  const session = await auth();
  const id = session?.user?.id;
  if (!id) return null;
  return actorForUser(await getDb(), id, session.sessionVersion);
}

/** For pages: admins and auditors read; anyone else goes to the sign-in page. */
export async function requireReader(): Promise<Actor> {
  const actor = await currentActor();
  if (!actor) redirect("/sign-in");
  return actor;
}

/** For server actions that change something: enforced here, whatever the page showed. */
export async function requireWriter(action: string): Promise<Actor> {
  const actor = await currentActor();
  if (!actor) redirect("/sign-in");
  await assertCanWrite(await getDb(), actor, action);
  return actor;
}

/** For pages that only make sense for writers (the "Add" forms): auditors go back to reading. */
export async function requireWriterPage(): Promise<Actor> {
  const actor = await requireReader();
  if (actor.role !== "ADMIN") redirect("/");
  return actor;
}
