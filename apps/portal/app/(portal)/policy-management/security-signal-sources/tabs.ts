/** Basic, then the guide's Conditions and Settings tabs. */
export const SIGNAL_SOURCE_TABS = [
  { id: "basic", label: "Basic" },
  { id: "conditions", label: "Conditions" },
  { id: "settings", label: "Settings" },
];
