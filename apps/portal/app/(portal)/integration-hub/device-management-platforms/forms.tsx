"use client";
import { useActionState, useEffect } from "react";
import { usePathname, useRouter } from "next/navigation";
import { ConfirmSubmit, Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { DMP_TYPES, VENDORS, WIFI_ENCRYPTION } from "@attested/platforms/options";
import type { FormState } from "@/lib/form-state";
import { createPlatformAction, publishToKandjiAction, rotateSecretAction, updateNetworkPayloadsAction, updatePlatformAction } from "./actions";

export function AddPlatformForm() {
  const [state, action] = useActionState(createPlatformAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-6" aria-label="Add Device Management Platform">
      <FormMessage state={state} />
      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name")} />
        </Field>
        <Field label="Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description")} />
        </Field>
        <Field label="Type" name="type" error={err.type}>
          <select className="input" {...invalid(state, "type", "")}>
            <option value="" disabled>
              Select…
            </option>
            {DMP_TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Vendor" name="vendor" error={err.vendor}>
          <select className="input" {...invalid(state, "vendor", "")}>
            <option value="" disabled>
              Select…
            </option>
            {Object.entries(VENDORS).map(([k, v]) => (
              <option key={k} value={k}>
                {v.label}
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

/** Starts the profile download once, right after "Save". */
export function AutoDownload({ href }: { href: string }) {
  useEffect(() => {
    window.location.assign(href);
    window.history.replaceState(null, "", window.location.pathname);
  }, [href]);
  return null;
}

export function PlatformSettingsForm({
  p,
  cas,
  templates,
  readOnly,
}: {
  p: { id: string; name: string; description: string; allowServerNames: boolean; defaultCaId: string | null; defaultTemplateId: string | null };
  cas: { id: string; name: string }[];
  templates: { id: string; name: string }[];
  readOnly: boolean;
}) {
  const [state, action] = useActionState(updatePlatformAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-4" aria-label="Platform settings">
      <input type="hidden" name="id" value={p.id} />
      <FormMessage state={state} />
      {/* One column: the card is half the page beside the profile, and the defaults' choices are long. */}
      <fieldset disabled={readOnly} className="grid grid-cols-1 gap-4">
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name", p.name)} />
        </Field>
        <Field label="Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description", p.description)} />
        </Field>
        <Field
          label="Default Certificate Authority"
          name="defaultCaId"
          error={err.defaultCaId}
          hint="Used when no Enrollment Policy applies to this platform; None: Enrollment Policies decide."
        >
          <select className="input" {...invalid(state, "defaultCaId", p.defaultCaId ?? "")}>
            <option value="">None</option>
            {cas.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Default Certificate Template" name="defaultTemplateId" error={err.defaultTemplateId}>
          <select className="input" {...invalid(state, "defaultTemplateId", p.defaultTemplateId ?? "")}>
            <option value="">None</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        <label className="flex items-center gap-2 md:col-span-2">
          <input type="checkbox" name="allowServerNames" defaultChecked={p.allowServerNames} className="h-4 w-4" />
          Also issue to standard ACME clients for DNS names (http-01 and dns-01 challenges)
        </label>
      </fieldset>
      {!readOnly && <SubmitButton>Update</SubmitButton>}
    </form>
  );
}

export function RotateSecretForm({ id, published }: { id: string; published: boolean }) {
  const [state, action] = useActionState(rotateSecretAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-2">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      {published && (
        <label className="flex items-start gap-2 text-sm text-slate-700">
          <input type="checkbox" name="revokePrevious" className="mt-1" />
          <span>Revoke the previous secret now (it leaked): profiles made before stop enrolling at once, even before the new profile reaches Kandji</span>
        </label>
      )}
      <ConfirmSubmit
        message={
          published
            ? "Rotate the enrollment secret? The new profile is published to Kandji; the previous one stops enrolling after the grace period."
            : "Rotate the enrollment secret? Every profile downloaded before stops working for new enrollments."
        }
      >
        Rotate enrollment secret
      </ConfirmSubmit>
    </form>
  );
}

/** What the network payloads form shows of the stored NetworkPayloads. */
export interface NetworkValues {
  wifi: { ssid: string; hidden: boolean; autoJoin: boolean; encryptionType: string } | null;
  ethernet: boolean;
  eap: { trustedServerNames: string[]; serverCaPem: string } | null;
  vpn: { name: string; remoteAddress: string; remoteIdentifier: string; localIdentifier: string } | null;
}

// A checkbox after a refused submit keeps what was sent; otherwise what is stored.
const checked = (state: FormState, name: string, stored: boolean) => (state.values ? state.values[name] === "on" : stored);

export function NetworkPayloadsForm({ id, n, serialVariable, readOnly }: { id: string; n: NetworkValues; serialVariable: string; readOnly: boolean }) {
  const [state, action] = useActionState(updateNetworkPayloadsAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-4" aria-label="Network payloads">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-4">
        <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
          <legend className="px-1 text-sm font-semibold text-slate-800">Wi-Fi</legend>
          <label className="flex items-center gap-2 md:col-span-2">
            <input type="checkbox" name="wifiEnabled" defaultChecked={checked(state, "wifiEnabled", Boolean(n.wifi))} className="h-4 w-4" />
            Add a Wi-Fi payload (EAP-TLS with this certificate)
          </label>
          <Field label="SSID" name="wifiSsid" error={err.wifiSsid} hint="The network name, 1 to 32 bytes.">
            <input className="input" {...invalid(state, "wifiSsid", n.wifi?.ssid ?? "")} />
          </Field>
          <Field label="Security" name="wifiEncryptionType" error={err.wifiEncryptionType}>
            <select className="input" {...invalid(state, "wifiEncryptionType", n.wifi?.encryptionType ?? "WPA2")}>
              {WIFI_ENCRYPTION.map((e) => (
                <option key={e.value} value={e.value}>
                  {e.label}
                </option>
              ))}
            </select>
          </Field>
          <label className="flex items-center gap-2">
            <input type="checkbox" name="wifiHidden" defaultChecked={checked(state, "wifiHidden", n.wifi?.hidden ?? false)} className="h-4 w-4" />
            Hidden network
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" name="wifiAutoJoin" defaultChecked={checked(state, "wifiAutoJoin", n.wifi?.autoJoin ?? true)} className="h-4 w-4" />
            Join automatically
          </label>
        </fieldset>
        <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4">
          <legend className="px-1 text-sm font-semibold text-slate-800">Ethernet 802.1X</legend>
          <label className="flex items-center gap-2">
            <input type="checkbox" name="ethernetEnabled" defaultChecked={checked(state, "ethernetEnabled", n.ethernet)} className="h-4 w-4" />
            Add an Ethernet 802.1X payload (macOS, first active interface, EAP-TLS with this certificate)
          </label>
        </fieldset>
        <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
          <legend className="px-1 text-sm font-semibold text-slate-800">RADIUS server (Wi-Fi and Ethernet)</legend>
          <Field
            label="Trusted server names"
            name="eapTrustedServerNames"
            error={err.eapTrustedServerNames}
            hint="The names on the RADIUS server's certificate, one a line; * stands for one label (wpa.*.example.com)."
          >
            <textarea className="input font-mono" rows={3} {...invalid(state, "eapTrustedServerNames", n.eap?.trustedServerNames.join("\n") ?? "")} />
          </Field>
          <Field
            label="RADIUS server CA certificate (PEM)"
            name="eapServerCaPem"
            error={err.eapServerCaPem}
            hint="The CA that issued the RADIUS server's certificate; the profile installs it and trusts only it."
          >
            <textarea className="input font-mono text-xs" rows={5} {...invalid(state, "eapServerCaPem", n.eap?.serverCaPem ?? "")} />
          </Field>
        </fieldset>
        <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
          <legend className="px-1 text-sm font-semibold text-slate-800">IKEv2 VPN</legend>
          <label className="flex items-center gap-2 md:col-span-2">
            <input type="checkbox" name="vpnEnabled" defaultChecked={checked(state, "vpnEnabled", Boolean(n.vpn))} className="h-4 w-4" />
            Add an IKEv2 VPN payload (certificate authentication with this certificate)
          </label>
          <Field label="Connection name" name="vpnName" error={err.vpnName}>
            <input className="input" {...invalid(state, "vpnName", n.vpn?.name ?? "")} />
          </Field>
          <Field label="Server" name="vpnRemoteAddress" error={err.vpnRemoteAddress} hint="Host name or IP address of the VPN gateway.">
            <input className="input" {...invalid(state, "vpnRemoteAddress", n.vpn?.remoteAddress ?? "")} />
          </Field>
          <Field
            label="Remote identifier"
            name="vpnRemoteIdentifier"
            error={err.vpnRemoteIdentifier}
            hint="The identity the gateway presents, often its host name."
          >
            <input className="input" {...invalid(state, "vpnRemoteIdentifier", n.vpn?.remoteIdentifier ?? "")} />
          </Field>
          <Field
            label="Local identifier"
            name="vpnLocalIdentifier"
            error={err.vpnLocalIdentifier}
            hint={`Empty: the device's serial number (${serialVariable}).`}
          >
            <input className="input" {...invalid(state, "vpnLocalIdentifier", n.vpn?.localIdentifier ?? "")} />
          </Field>
        </fieldset>
      </fieldset>
      {!readOnly && <SubmitButton>Save network payloads</SubmitButton>}
    </form>
  );
}

/**
 * Publish to Kandji: the Core Platform holding Kandji's API token, and the Blueprints (listed from
 * that tenant) the custom profile is assigned to. Choosing another Core Platform lists its Blueprints.
 */
export function PublishToKandjiForm({
  id,
  corePlatforms,
  corePlatformId,
  blueprints,
  blueprintIds,
}: {
  id: string;
  corePlatforms: { id: string; name: string }[];
  corePlatformId: string;
  blueprints: { id: string; name: string }[] | { error: string } | null;
  blueprintIds: string[];
}) {
  const [state, action] = useActionState(publishToKandjiAction, emptyForm);
  const router = useRouter();
  const pathname = usePathname();
  const err = state.fieldErrors ?? {};
  const chosen = state.values?.blueprintIds?.split("\n") ?? blueprintIds;
  return (
    // The chosen Core Platform lives in the URL (?core=, its Blueprints are listed from it): a reset form keeps it.
    <form noValidate key={`${formKey(state)}:${corePlatformId}`} action={action} className="space-y-4" aria-label="Publish to Kandji">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <Field
        label="Core Platform"
        name="corePlatformId"
        error={err.corePlatformId}
        hint="A Generic HTTP Core Platform with Kandji's API URL and a Bearer Token."
      >
        <select
          className="input"
          {...invalid(state, "corePlatformId")}
          defaultValue={corePlatformId}
          onChange={(e) => router.replace(`${pathname}?core=${encodeURIComponent(e.target.value)}`, { scroll: false })}
        >
          <option value="">Select…</option>
          {corePlatforms.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </Field>
      <fieldset className="space-y-1" aria-describedby={err.blueprintIds ? "blueprintIds-error" : undefined}>
        <legend className="text-sm font-medium text-slate-700">Blueprints</legend>
        {blueprints === null && <p className="text-sm text-slate-500">Choose a Core Platform to list its Blueprints.</p>}
        {blueprints && "error" in blueprints && (
          <p role="alert" className="text-sm text-red-600">
            Kandji&apos;s Blueprints could not be listed: {blueprints.error}
          </p>
        )}
        {blueprints &&
          !("error" in blueprints) &&
          blueprints.map((b) => (
            <label key={b.id} className="flex items-center gap-2 text-sm">
              <input type="checkbox" name="blueprintIds" value={b.id} defaultChecked={chosen.includes(b.id)} className="h-4 w-4" />
              {b.name}
            </label>
          ))}
        {err.blueprintIds && (
          <p id="blueprintIds-error" role="alert" className="text-xs font-medium text-red-600">
            {err.blueprintIds}
          </p>
        )}
      </fieldset>
      <SubmitButton>Publish to Kandji</SubmitButton>
    </form>
  );
}
