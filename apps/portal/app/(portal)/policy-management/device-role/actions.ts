"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createDeviceRole, deleteDeviceRole, updateDeviceRole } from "@attested/policy";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { rowsFromInput, withKeptRows } from "@/lib/rows";
import { requireWriter } from "@/lib/session";

const base = "/policy-management/device-role";

export const createDeviceRoleAction = formAction(async (input) => {
  const actor = await requireWriter("create device roles");
  const r = await createDeviceRole(await getDb(), actor, input);
  revalidatePath(base);
  // "The page refreshes, and the Conditions tab opens."
  redirect(`${base}/${r.id}?saved=1&tab=conditions`);
});

export const updateDeviceRoleAction = formAction(async (input) => {
  const actor = await requireWriter("change device roles");
  const db = await getDb();
  // A posture row left at "None" is no condition.
  const rows = rowsFromInput(input, "postureConditions", ["check", "value"]);
  await withKeptRows(
    rows,
    (r) => Boolean(r.check),
    "postureConditions",
    (kept) =>
      updateDeviceRole(db, actor, input.id ?? "", {
        name: input.name,
        description: input.description,
        keyAttestationPlatformId: input.keyAttestationPlatformId,
        postureConditions: kept.map((r) => ({ check: r.check, value: r.value ?? "" })),
      }),
  );
  revalidatePath(`${base}/${input.id}`);
  return { ok: true, message: "Device Role updated." };
});

export const deleteDeviceRoleAction = formAction(async (input) => {
  const actor = await requireWriter("delete device roles");
  await deleteDeviceRole(await getDb(), actor, input.id ?? "");
  revalidatePath(base);
  redirect(base);
});
