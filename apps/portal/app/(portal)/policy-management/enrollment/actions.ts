"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createEnrollmentPolicy, deleteEnrollmentPolicy, updateEnrollmentPolicy } from "@attested/policy";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

const base = "/policy-management/enrollment";

export const createEnrollmentPolicyAction = formAction(async (input) => {
  const actor = await requireWriter("create enrollment policies");
  const p = await createEnrollmentPolicy(await getDb(), actor, input);
  revalidatePath(base);
  redirect(`${base}/${p.id}?saved=1`);
});

export const updateEnrollmentPolicyAction = formAction(async (input) => {
  const actor = await requireWriter("change enrollment policies");
  await updateEnrollmentPolicy(await getDb(), actor, input.id ?? "", {
    name: input.name,
    description: input.description,
    priority: input.priority,
    policyWorkflowId: input.policyWorkflowId,
    deviceRoleId: input.deviceRoleId,
    caId: input.caId,
    templateId: input.templateId,
  });
  revalidatePath(`${base}/${input.id}`);
  revalidatePath(base);
  return { ok: true, message: "Enrollment Policy updated." };
});

export const deleteEnrollmentPolicyAction = formAction(async (input) => {
  const actor = await requireWriter("delete enrollment policies");
  await deleteEnrollmentPolicy(await getDb(), actor, input.id ?? "");
  revalidatePath(base);
  redirect(base);
});
