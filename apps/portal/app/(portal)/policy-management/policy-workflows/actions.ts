"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createWorkflow, deleteWorkflow, updateWorkflow, ANY, GROUPS } from "@attested/policy";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { rowsFromInput, withKeptRows } from "@/lib/rows";
import { requireWriter } from "@/lib/session";

const base = "/policy-management/policy-workflows";

export const createWorkflowAction = formAction(async (input) => {
  const actor = await requireWriter("create policy workflows");
  const w = await createWorkflow(await getDb(), actor, input);
  revalidatePath(base);
  redirect(`${base}/${w.id}?saved=1`);
});

export const updateWorkflowAction = formAction(async (input) => {
  const actor = await requireWriter("change policy workflows");
  const db = await getDb();
  // A row whose Attribute is ANY is no condition (the guide: "retain ANY").
  const rows = rowsFromInput(input, "attributeConditions", ["attribute", "operator", "value"]);
  await withKeptRows(
    rows,
    (r) => (r.attribute ?? ANY) !== ANY,
    "attributeConditions",
    (kept) =>
      updateWorkflow(db, actor, input.id ?? "", {
        name: input.name,
        description: input.description,
        corePlatformId: input.corePlatformId,
        attributeConditions: kept.map((r) =>
          r.attribute === GROUPS
            ? { kind: "group", operator: r.operator, value: r.value }
            : { kind: "attribute", attribute: r.attribute, operator: r.operator, value: r.value },
        ),
      }),
  );
  revalidatePath(`${base}/${input.id}`);
  return { ok: true, message: "Policy Workflow updated." };
});

export const deleteWorkflowAction = formAction(async (input) => {
  const actor = await requireWriter("delete policy workflows");
  await deleteWorkflow(await getDb(), actor, input.id ?? "");
  revalidatePath(base);
  redirect(base);
});
