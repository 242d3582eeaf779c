import { randomUUID } from "node:crypto";
import { z } from "zod";

// Shapes of the Kandji Devices API (docs/kandji.md#the-device-record; Kandji's OpenAPI is copied in
// docs/reference/kandji/devices-api.openapi.json).
// Field names and value formats follow the documented examples, e.g. `user` is an object or "",
// enrollment times use Python's str(datetime) format, last_check_in is ISO-8601 with a Z.

export const PLATFORMS = ["Mac", "iPad", "iPhone", "AppleTV"] as const;
export type Platform = (typeof PLATFORMS)[number];

export interface KandjiUser {
  email: string;
  id: string;
  is_archived: boolean;
  name: string;
}

/** One record of GET /api/v1/devices and GET /api/v1/devices/{device_id} (keys in Kandji's order). */
export interface KandjiDevice {
  agent_installed: boolean;
  agent_version: string;
  asset_tag: string;
  blueprint_id: string;
  blueprint_name: string;
  device_id: string;
  device_name: string;
  first_enrollment: string;
  is_missing: boolean;
  is_removed: boolean;
  last_check_in: string;
  last_enrollment: string;
  lost_mode_status: string;
  mdm_enabled: boolean;
  model: string;
  os_version: string;
  platform: Platform;
  serial_number: string;
  supplemental_build_version: string;
  supplemental_os_version_extra: string;
  tags: string[];
  user: KandjiUser | "";
}

/** Facts the list endpoint filters on or /details shows, but which are not in the list record. */
export interface DeviceExtras {
  mac_address: string;
  udid: string;
  model_identifier: string;
  filevault_enabled: boolean | null;
  supervised: boolean;
}

export interface SimDevice {
  record: KandjiDevice;
  extras: DeviceExtras;
}

export interface Blueprint {
  id: string;
  name: string;
}

const text = (max: number) => z.string().max(max);
// Control characters would let a seed break the JSON or header framing of a test; real values have none.
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]+$/, "must not contain control characters");

export const userInputSchema = z.object({
  email: text(254),
  name: text(200).default(""),
  id: z.guid().optional(),
  is_archived: z.boolean().default(false),
});

/** What the admin API and seed files accept for a device; everything but serial_number has a default. */
export const deviceInputSchema = z.object({
  serial_number: printable(64),
  device_id: z.guid().optional(),
  device_name: text(200).optional(),
  platform: z.enum(PLATFORMS).default("Mac"),
  model: text(200).optional(),
  os_version: text(32).optional(),
  supplemental_build_version: text(32).default(""),
  supplemental_os_version_extra: text(32).default(""),
  user: z.union([userInputSchema, z.literal("")]).default(""),
  asset_tag: text(100).default(""),
  blueprint_id: z.guid().optional(),
  blueprint_name: printable(200).optional(),
  mdm_enabled: z.boolean().default(true),
  agent_installed: z.boolean().optional(),
  agent_version: text(64).optional(),
  is_missing: z.boolean().default(false),
  is_removed: z.boolean().default(false),
  lost_mode_status: text(32).default(""),
  first_enrollment: z.string().optional(),
  last_enrollment: z.string().optional(),
  last_check_in: z.string().optional(),
  tags: z.array(printable(100)).default([]),
  mac_address: text(17).optional(),
  udid: text(64).optional(),
  model_identifier: text(64).optional(),
  filevault_enabled: z.boolean().nullable().optional(),
  supervised: z.boolean().default(true),
});
export type DeviceInput = z.input<typeof deviceInputSchema>;

/** PATCH body: any field but the identity of the record. */
export const devicePatchSchema = deviceInputSchema.omit({ device_id: true }).partial();
export type DevicePatch = z.input<typeof devicePatchSchema>;

export const blueprintInputSchema = z.object({ id: z.guid().optional(), name: printable(200) });
export type BlueprintInput = z.input<typeof blueprintInputSchema>;

export const seedSchema = z.object({
  blueprints: z.array(blueprintInputSchema).default([]),
  devices: z.array(deviceInputSchema).default([]),
});
export type Seed = z.input<typeof seedSchema>;

const DEFAULTS: Record<Platform, { model: string; os: string; name: string; identifier: string }> = {
  Mac: { model: "MacBook Pro (14-inch, 2023)", os: "15.5", name: "MacBook Pro", identifier: "Mac14,9" },
  iPad: { model: "iPad Air (5th generation)", os: "18.5", name: "iPad", identifier: "iPad13,16" },
  iPhone: { model: "iPhone 15", os: "18.5", name: "iPhone", identifier: "iPhone15,4" },
  AppleTV: { model: "Apple TV 4K (3rd generation)", os: "18.5", name: "Apple TV", identifier: "AppleTV14,1" },
};

/** Python's str(datetime) with a UTC offset, as Kandji shows first_enrollment / last_enrollment. */
export function pythonTime(d: Date): string {
  return d
    .toISOString()
    .replace("T", " ")
    .replace(/\.(\d{3})Z$/, ".$1000+00:00");
}

/** ISO-8601 with microseconds and Z, as Kandji shows last_check_in. */
export function isoMicros(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function randomMac(): string {
  const b = [...crypto.getRandomValues(new Uint8Array(6))];
  b[0] = (b[0]! & 0xfc) | 0x02; // locally administered, unicast
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

/** Builds a full record from parsed input; `blueprint` is already resolved by the state. */
export function buildDevice(input: z.output<typeof deviceInputSchema>, blueprint: Blueprint, now = new Date()): SimDevice {
  const d = DEFAULTS[input.platform];
  const agent = input.agent_installed ?? input.platform === "Mac";
  const user: KandjiUser | "" =
    input.user === "" ? "" : { email: input.user.email, id: input.user.id ?? randomUUID(), is_archived: input.user.is_archived, name: input.user.name };
  const enrolled = pythonTime(now);
  return {
    record: {
      agent_installed: agent,
      agent_version: input.agent_version ?? (agent ? "4.6.1 (4613)" : ""),
      asset_tag: input.asset_tag,
      blueprint_id: blueprint.id,
      blueprint_name: blueprint.name,
      device_id: input.device_id ?? randomUUID(),
      device_name: input.device_name ?? d.name,
      first_enrollment: input.first_enrollment ?? enrolled,
      is_missing: input.is_missing,
      is_removed: input.is_removed,
      last_check_in: input.last_check_in ?? isoMicros(now),
      last_enrollment: input.last_enrollment ?? enrolled,
      lost_mode_status: input.lost_mode_status,
      mdm_enabled: input.mdm_enabled,
      model: input.model ?? d.model,
      os_version: input.os_version ?? d.os,
      platform: input.platform,
      serial_number: input.serial_number,
      supplemental_build_version: input.supplemental_build_version,
      supplemental_os_version_extra: input.supplemental_os_version_extra,
      tags: [...input.tags],
      user,
    },
    extras: {
      mac_address: (input.mac_address ?? randomMac()).toLowerCase(),
      udid: input.udid ?? randomUUID().toUpperCase(),
      model_identifier: input.model_identifier ?? d.identifier,
      filevault_enabled: input.platform === "Mac" ? (input.filevault_enabled ?? true) : null,
      supervised: input.supervised,
    },
  };
}

/** GET /api/v1/devices/{id}/details: the documented sections, filled from the record. */
export function deviceDetails(dev: SimDevice): Record<string, unknown> {
  const r = dev.record;
  const x = dev.extras;
  const userName = r.user === "" ? "" : r.user.name;
  return {
    activation_lock: {
      activation_lock_allowed_while_supervised: false,
      activation_lock_supported: true,
      bypass_code_failed: false,
      device_activation_lock_enabled: false,
      user_activation_lock_enabled: false,
    },
    automated_device_enrollment: { auto_enroll_eligible: true, auto_enrolled: true },
    filevault: {
      filevault_enabled: x.filevault_enabled,
      filevault_next_rotation: "",
      filevault_prk_escrowed: x.filevault_enabled === true,
      filevault_recoverykey_type: x.filevault_enabled ? "personal" : "",
      filevault_regen_required: false,
    },
    general: {
      asset_tag: r.asset_tag,
      assigned_user: userName,
      blueprint_name: r.blueprint_name,
      blueprint_uuid: r.blueprint_id,
      boot_volume: r.platform === "Mac" ? "Macintosh HD" : "",
      device_id: r.device_id,
      device_name: r.device_name,
      first_enrollment: r.first_enrollment,
      last_enrollment: r.last_enrollment,
      last_user: userName,
      model: r.model,
      os_version: r.os_version,
      platform: r.platform,
      supplemental_build_version: r.supplemental_build_version,
      supplemental_os_version_extra: r.supplemental_os_version_extra,
      system_version: r.platform === "Mac" ? `macOS ${r.os_version}` : "",
      time_since_boot: "",
    },
    hardware_overview: { model_identifier: x.model_identifier, serial_number: r.serial_number, uuid: x.udid },
    installed_profiles: [],
    kandji_agent: {
      agent_installed: r.agent_installed ? "True" : "False",
      agent_version: r.agent_version,
      install_date: r.agent_installed ? r.first_enrollment : "",
      last_check_in: r.last_check_in,
    },
    lost_mode: { lost_mode_status: r.lost_mode_status },
    mdm: {
      install_date: r.first_enrollment,
      last_check_in: r.last_check_in,
      mdm_enabled: r.mdm_enabled ? "True" : "False",
      mdm_enabled_user: [],
      supervised: x.supervised ? "True" : "False",
    },
    network: { mac_address: x.mac_address },
    recovery_information: {
      firmware_password_exist: false,
      firmware_password_pending: false,
      password_rotation_scheduled: null,
      recovery_lock_enabled: false,
    },
    security_information: { remote_desktop_enabled: null },
    tags: [...r.tags],
    users: { regular_users: [], system_users: [] },
    volumes: [],
  };
}
