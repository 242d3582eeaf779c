// Summarizes V8 .cpuprofile files (node --cpu-prof): self time by package and the top functions by self
// and by total (inclusive) time. Run alone: npx tsx scripts/bench/profile-summary.ts DIR
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function category(url: string, fn: string): string {
  if (!url) return fn === "(garbage collector)" ? "(gc)" : fn === "(idle)" ? "(idle)" : fn === "(program)" ? "(program)" : "(native)";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const pk = /\/packages\/([^/]+)\//.exec(url);
  if (pk) return `@attested/${pk[1]}`;
  if (url.includes("/.next")) return "next build (app chunks)";
  if (url.includes("/apps/portal/server/")) return "portal server";
  return url.split("/").slice(-2).join("/");
}

export function summarizeProfiles(dir: string, top = 25): string {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const self = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  let total = 0;
  for (const f of files) {
    const p = JSON.parse(readFileSync(path.join(dir, f), "utf8")) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const time = new Map<number, number>();
    p.samples.forEach((id, i) => {
      time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    });
    for (const [id, ms] of time) {
      const n = byId.get(id)!;
      const { functionName, url, lineNumber } = n.callFrame;
      if (functionName === "(idle)") continue;
      total += ms;
      const cat = category(url, functionName);
      self.set(cat, (self.get(cat) ?? 0) + ms);
      const key = `${functionName || "(anonymous)"} ${cat}:${lineNumber + 1}`;
      fnSelf.set(key, (fnSelf.get(key) ?? 0) + ms);
      // Inclusive time: each distinct function on the stack once.
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const cf = byId.get(cur)!.callFrame;
        const k = `${cf.functionName || "(anonymous)"} ${category(cf.url, cf.functionName)}:${cf.lineNumber + 1}`;
        if (seen.has(k)) continue;
        seen.add(k);
        fnTotal.set(k, (fnTotal.get(k) ?? 0) + ms);
      }
    }
  }
  const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)} %`;
  const rows = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `  ${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  return [
    `CPU profile of the portal (${files.length} file(s) in ${dir}), ${total.toFixed(0)} ms of samples, idle excluded`,
    "self time by package:",
    ...rows(self, 20),
    "top functions by self time:",
    ...rows(fnSelf, top),
    "top functions by total time:",
    ...rows(fnTotal, top),
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(summarizeProfiles(process.argv[2] ?? "bench-profiles", Number(process.argv[3] ?? 25)));
