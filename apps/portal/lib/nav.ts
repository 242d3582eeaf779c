/** The portal map (SPEC §1). A page is listed here once it works. */
export const navigation: { section: string; items: { label: string; href: string }[] }[] = [
  {
    section: "Dynamic PKI",
    items: [
      { label: "Certificate Authorities", href: "/dynamic-pki/certificate-authorities" },
      { label: "Certificates", href: "/dynamic-pki/certificates" },
    ],
  },
  {
    section: "Integration Hub",
    items: [
      { label: "Device Management Platforms", href: "/integration-hub/device-management-platforms" },
      { label: "Key Attestation Platforms", href: "/integration-hub/key-attestation-platforms" },
    ],
  },
  {
    section: "Data and Monitoring",
    items: [{ label: "General Events", href: "/data-and-monitoring/general-events" }],
  },
  {
    section: "Settings",
    items: [
      { label: "Users", href: "/settings/users" },
      { label: "API Tokens", href: "/settings/api-tokens" },
    ],
  },
];
