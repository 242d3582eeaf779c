import { notFound } from "next/navigation";
import {
  AUTH_METHODS,
  AUTH_METHOD_LABELS,
  CONDITIONS,
  LIST_PAGINGS,
  LIST_PAGING_LABELS,
  CONDITION_LABELS,
  SECRET_LABELS,
  UNPINNED_WARNING,
  rulesPinIdentity,
} from "@attested/integrations";
import { corePlatformUsage, getCorePlatform, identityVariables, DEFAULT_IDENTITY_ATTRIBUTE } from "@attested/policy";
import { Card, PageHeader, Tabs, formatTime } from "@/components/ui";
import { getDb } from "@/lib/db";
import { requireReader } from "@/lib/session";
import { DeleteForm } from "@/components/delete-form";
import { deleteCorePlatformAction } from "../actions";
import { CorePlatformForm } from "../forms";
import { CORE_PLATFORM_TABS } from "../tabs";
import { NotFoundError } from "@attested/errors";

export default async function CorePlatformPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ saved?: string; tab?: string }>;
}) {
  const actor = await requireReader();
  const db = await getDb();
  const { id } = await params;
  const cp = await getCorePlatform(db, id).catch((e) => (e instanceof NotFoundError ? notFound() : Promise.reject(e)));
  const usedBy = await corePlatformUsage(db, id);
  const sp = await searchParams;
  const active = CORE_PLATFORM_TABS.some((t) => t.id === sp.tab) ? sp.tab! : "basic";
  const admin = actor.role === "ADMIN";
  const base = `/integration-hub/core-platforms/${cp.id}`;
  const pinned = rulesPinIdentity(cp.validationRules, identityVariables(DEFAULT_IDENTITY_ATTRIBUTE));
  return (
    <>
      <PageHeader
        title={cp.name}
        crumbs={[{ label: "Integration Hub" }, { label: "Core Platforms", href: "/integration-hub/core-platforms" }, { label: cp.name }]}
        description={cp.description || "Generic HTTP"}
      />
      {sp.saved && (
        <div role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Core Platform saved. Set it up in the Configuration, API, Attribute Mapping and Groups tabs.
        </div>
      )}
      {cp.alert && (
        <div role="alert" data-testid="core-platform-alert" className="mb-4 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          <p className="font-medium">
            Since {formatTime(cp.alert.since)}, the MDM refuses this Core Platform&apos;s credentials: {cp.alert.reason}.
          </p>
          <p className="mt-1">
            Devices that enroll or authenticate through it are denied until this is fixed. Update the{" "}
            {admin ? (
              <a className="link" href={`${base}?tab=configuration`}>
                API token on the Configuration tab
              </a>
            ) : (
              "API token on the Configuration tab"
            )}{" "}
            and press Validate: the alert clears as soon as a lookup gets an answer.
          </p>
        </div>
      )}
      <Tabs base={base} active={active} tabs={CORE_PLATFORM_TABS} />
      <Card>
        <CorePlatformForm
          cp={{
            id: cp.id,
            name: cp.name,
            description: cp.description,
            authMethod: cp.authMethod,
            hasSecret: cp.hasSecret,
            basicUsername: cp.basicUsername,
            apiKeyHeader: cp.apiKeyHeader,
            oauthTokenUrl: cp.oauthTokenUrl,
            oauthClientId: cp.oauthClientId,
            oauthScope: cp.oauthScope,
            uri: cp.uri,
            timeoutMs: cp.timeoutMs,
            groupsPath: cp.groupsPath,
            listUri: cp.listUri,
            listPaging: cp.listPaging,
            listItemsPath: cp.listItemsPath,
            listSerialPath: cp.listSerialPath,
            listPageSize: cp.listPageSize,
            validationRules: cp.validationRules.map((r) => ({ path: r.path, condition: r.condition, expected: r.expected })),
            attributeMappings: cp.attributeMappings.map((m) => ({ path: m.path, attribute: m.attribute })),
          }}
          active={active}
          readOnly={!admin}
          authMethods={AUTH_METHODS.map((m) => ({ value: m, label: AUTH_METHOD_LABELS[m] }))}
          secretLabels={SECRET_LABELS}
          listPagings={LIST_PAGINGS.map((p) => ({ value: p, label: LIST_PAGING_LABELS[p] }))}
          conditions={CONDITIONS.map((c) => ({ value: c, label: CONDITION_LABELS[c] }))}
          unpinnedWarning={!pinned && (cp.uri || cp.validationRules.length) ? UNPINNED_WARNING : null}
        />
      </Card>
      <Card title="Used by" className="mt-6">
        {usedBy.length ? (
          <ul className="list-disc pl-5 text-sm">
            {usedBy.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-slate-500">Not used by any Security Signal Source or Policy Workflow.</p>
        )}
        {admin && (
          <div className="mt-4">
            <DeleteForm action={deleteCorePlatformAction} id={cp.id} what={`Core Platform "${cp.name}"`} />
          </div>
        )}
      </Card>
    </>
  );
}
