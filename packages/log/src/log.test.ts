import { describe, expect, it } from "vitest";
import { createRootLogger, currentRequestId, logger, runWithRequest } from "./index";

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(JSON.parse(s)) } };
}

describe("@attested/log", () => {
  it("adds the request id to every line logged while the request is served, awaits included", async () => {
    const { lines, destination } = capture();
    const root = createRootLogger({ destination });
    expect(logger()).toBe(root);
    logger().info("before");
    await runWithRequest("req-1", async () => {
      expect(currentRequestId()).toBe("req-1");
      await new Promise((r) => setTimeout(r, 5));
      logger().error({ err: new Error("boom") }, "failed");
      logger().child({ component: "acme" }).warn("from a child");
    });
    logger().info("after");
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ["before", undefined],
      ["failed", "req-1"],
      ["from a child", "req-1"],
      ["after", undefined],
    ]);
    expect(lines[1]).toMatchObject({ service: "attested-pki", level: 50, err: { message: "boom" } });
  });

  it("redacts credentials in request headers", () => {
    const { lines, destination } = capture();
    createRootLogger({ destination });
    logger().info({ req: { headers: { authorization: "Bearer secret", cookie: "s=1", accept: "*/*" } } }, "req");
    expect(lines[0].req).toEqual({ headers: { authorization: "[Redacted]", cookie: "[Redacted]", accept: "*/*" } });
  });
});
