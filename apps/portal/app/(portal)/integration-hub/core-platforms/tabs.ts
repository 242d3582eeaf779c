/** The detail page's tabs: Basic, then the guide's Configuration, API, Attribute Mapping and Groups. */
export const CORE_PLATFORM_TABS = [
  { id: "basic", label: "Basic" },
  { id: "configuration", label: "Configuration" },
  { id: "api", label: "API" },
  { id: "attribute-mapping", label: "Attribute Mapping" },
  { id: "groups", label: "Groups" },
];
