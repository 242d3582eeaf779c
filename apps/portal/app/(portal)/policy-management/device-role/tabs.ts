/** Basic, then the guide's Conditions tab. */
export const DEVICE_ROLE_TABS = [
  { id: "basic", label: "Basic" },
  { id: "conditions", label: "Conditions" },
];
