// Choices of the Integration Hub forms, with the guide's labels.

export const DMP_TYPES = [{ value: "acme-enrollment-token", label: "ACME Client Certificate Enrollment Token" }] as const;

/**
 * MDM vendors and the profile variables each one fills in per device (from their documentation):
 * the profile carries the variables, the MDM substitutes each device's values when it installs it.
 */
export const VENDORS = {
  kandji: { label: "Kandji", serial: "$SERIAL_NUMBER", udid: "$UDID", deviceName: "$DEVICE_NAME", email: "$EMAIL", fullName: "$FULL_NAME" },
  jamf: { label: "Jamf Pro", serial: "$SERIALNUMBER", udid: "$UDID", deviceName: "$DEVICENAME", email: "$EMAIL", fullName: "$FULLNAME" },
  intune: {
    label: "Microsoft Intune",
    serial: "{{serialnumber}}",
    udid: "{{udid}}",
    deviceName: "{{devicename}}",
    email: "{{mail}}",
    fullName: "{{userprincipalname}}",
  },
} as const;
export type Vendor = keyof typeof VENDORS;

export const KAP_TYPES = [{ value: "apple", label: "Apple" }] as const;

/** Wi-Fi payload EncryptionType values for an enterprise (802.1X) network. */
export const WIFI_ENCRYPTION = [
  { value: "WPA2", label: "WPA2 Enterprise" },
  { value: "WPA3", label: "WPA3 Enterprise" },
  { value: "Any", label: "WPA2 or WPA3 Enterprise" },
] as const;
export type WifiEncryption = (typeof WIFI_ENCRYPTION)[number]["value"];
