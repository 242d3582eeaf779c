/** The portal map (docs/guide.md#portal-map). A page is listed here once it works. */
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
      { label: "Core Platforms", href: "/integration-hub/core-platforms" },
      { label: "Key Attestation Platforms", href: "/integration-hub/key-attestation-platforms" },
    ],
  },
  {
    section: "Policy Management",
    items: [
      { label: "Security Signal Sources", href: "/policy-management/security-signal-sources" },
      { label: "Policy Workflows", href: "/policy-management/policy-workflows" },
      { label: "Device Role", href: "/policy-management/device-role" },
      { label: "Enrollment", href: "/policy-management/enrollment" },
    ],
  },
  {
    section: "Data and Monitoring",
    items: [
      { label: "Overview", href: "/" },
      { label: "General Events", href: "/data-and-monitoring/general-events" },
    ],
  },
  {
    section: "Settings",
    items: [
      { label: "Account", href: "/settings/account" },
      { label: "Users", href: "/settings/users" },
      { label: "API Tokens", href: "/settings/api-tokens" },
      { label: "Mail", href: "/settings/mail" },
      { label: "Single sign-on", href: "/settings/single-sign-on" },
      { label: "Events", href: "/settings/events" },
    ],
  },
];
