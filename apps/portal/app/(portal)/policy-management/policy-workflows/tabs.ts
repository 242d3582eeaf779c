/** Basic, then the guide's Conditions tab. */
export const WORKFLOW_TABS = [
  { id: "basic", label: "Basic" },
  { id: "conditions", label: "Conditions" },
];
