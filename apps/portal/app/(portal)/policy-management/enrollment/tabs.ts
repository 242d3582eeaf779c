/** Basic, then the guide's Conditions and Settings tabs. */
export const ENROLLMENT_TABS = [
  { id: "basic", label: "Basic" },
  { id: "conditions", label: "Conditions" },
  { id: "settings", label: "Settings" },
];
