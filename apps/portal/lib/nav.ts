/** The portal map (SPEC §1). A page is listed here once it works. */
export const navigation: { section: string; items: { label: string; href: string }[] }[] = [
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
