"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createCorePlatform, deleteCorePlatform, updateCorePlatform, validateCorePlatform, type ValidationReport } from "@attested/policy";
import { getDb } from "@/lib/db";
import { formAction, formToObject, toFormState } from "@/lib/form";
import type { FormState } from "@/lib/form-state";
import { rowsFromInput } from "@/lib/rows";
import { requireWriter } from "@/lib/session";

const base = "/integration-hub/core-platforms";

/** The tabs' fields as the service takes them: rows become lists. */
function tabsInput(input: Record<string, string>) {
  return {
    name: input.name,
    description: input.description,
    authMethod: input.authMethod,
    secret: input.secret,
    basicUsername: input.basicUsername,
    apiKeyHeader: input.apiKeyHeader,
    oauthTokenUrl: input.oauthTokenUrl,
    oauthClientId: input.oauthClientId,
    oauthScope: input.oauthScope,
    uri: input.uri,
    timeoutMs: input.timeoutMs,
    validationRules: rowsFromInput(input, "validationRules", ["path", "condition", "expected"]),
    attributeMappings: rowsFromInput(input, "attributeMappings", ["path", "attribute"]),
    groupsPath: input.groupsPath,
    listUri: input.listUri,
    listPaging: input.listPaging,
    listItemsPath: input.listItemsPath,
    listSerialPath: input.listSerialPath,
    listPageSize: input.listPageSize,
  };
}

export const createCorePlatformAction = formAction(async (input) => {
  const actor = await requireWriter("create core platforms");
  const cp = await createCorePlatform(await getDb(), actor, input);
  revalidatePath(base);
  // "The page refreshes": the tabs appear.
  redirect(`${base}/${cp.id}?saved=1`);
});

export const updateCorePlatformAction = formAction(async (input) => {
  const actor = await requireWriter("change core platforms");
  await updateCorePlatform(await getDb(), actor, input.id ?? "", tabsInput(input));
  revalidatePath(`${base}/${input.id}`);
  return { ok: true, message: "Core Platform updated." };
});

export const deleteCorePlatformAction = formAction(async (input) => {
  const actor = await requireWriter("delete core platforms");
  await deleteCorePlatform(await getDb(), actor, input.id ?? "");
  revalidatePath(base);
  redirect(base);
});

export interface ValidateState extends FormState {
  report?: ValidationReport;
}

/** "Validate": a real call with the unsaved form. Admins only (it sends the stored credential). */
export async function validateCorePlatformAction(_: ValidateState, form: FormData): Promise<ValidateState> {
  const input = formToObject(form);
  try {
    const actor = await requireWriter("validate core platforms");
    const report = await validateCorePlatform(await getDb(), actor, input.id ?? "", { ...tabsInput(input), identity: input.identity });
    return { report: JSON.parse(JSON.stringify(report)) as ValidationReport };
  } catch (e) {
    return toFormState(e);
  }
}
