import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { ZodError } from "zod";
import { deliverPendingMail, scheduleEnrollmentNotice, scheduleExpiryReminders } from "./notifications";
import { getMailSettings, sendTestMail, updateMailSettings } from "./smtp";
import { admin, auditor, harness, openssl, type Harness } from "./testing";

interface Received {
  from: string;
  to: string[];
  raw: string;
  /** Headers and body with quoted-printable soft breaks and escapes undone. */
  text: string;
  user?: string;
}

/** An in-process SMTP server (smtp-server) that keeps what it receives. */
async function startSmtp(opts: Partial<SMTPServerOptions> & { rejectRcpt?: (address: string) => { code: number; message: string } | null } = {}) {
  const received: Received[] = [];
  const { rejectRcpt, ...serverOpts } = opts;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    onRcptTo(address, _session, cb) {
      const r = rejectRcpt?.(address.address);
      if (r) return cb(Object.assign(new Error(r.message), { responseCode: r.code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const text = raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          text,
          user: session.user as string | undefined,
        });
        cb();
      });
    },
    ...serverOpts,
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { server, port, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let h: Harness;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let notifyingCa: { id: string; pem: string };

beforeAll(async () => {
  h = await harness();
  smtp = await startSmtp();
  notifyingCa = await h.makeCa({ notifyOnEnrollment: "on", expiryNotificationDays: "7" });
});
afterAll(async () => {
  await smtp?.close();
  await h?.close();
});

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

const fieldOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "accepted";
  } catch (e) {
    if (e instanceof ZodError) return e.issues[0].path.join(".");
    throw e;
  }
};

describe("Settings > Mail", () => {
  it("validates the form field by field", async () => {
    expect(await fieldOf(updateMailSettings(h.ctx, admin, { host: "smtp.example.com", port: "0", from: "pki@example.com" }))).toBe("port");
    expect(await fieldOf(updateMailSettings(h.ctx, admin, { host: "not a host", from: "pki@example.com" }))).toBe("host");
    expect(await fieldOf(updateMailSettings(h.ctx, admin, { host: "smtp.example.com", from: "nope" }))).toBe("from");
    expect(await fieldOf(updateMailSettings(h.ctx, admin, { host: "smtp.example.com" }))).toBe("from");
    expect(await fieldOf(updateMailSettings(h.ctx, admin, { host: "smtp.example.com", from: "pki@example.com", password: "x" }))).toBe("user");
    expect(await fieldOf(updateMailSettings(h.ctx, admin, { from: "pki@example.com" }))).toBe("host");
  });

  it("keeps the password sealed and write-only, and lets only admins change settings", async () => {
    await updateMailSettings(h.ctx, admin, { host: "smtp.example.com", port: "587", user: "mailer", password: "s3cret-Pa55word", from: "pki@example.com" });
    const view = await getMailSettings(h.db.prisma);
    expect(view).toEqual({ host: "smtp.example.com", port: 587, secure: false, user: "mailer", from: "pki@example.com", passwordSet: true, configured: true });
    expect(JSON.stringify(view)).not.toContain("s3cret");
    const org = await h.db.prisma.organization.findFirstOrThrow();
    expect(Buffer.from(org.smtpPassword!).includes(Buffer.from("s3cret-Pa55word"))).toBe(false);

    // A blank password keeps the saved one; "remove" removes it.
    await updateMailSettings(h.ctx, admin, { host: "smtp.example.com", port: "587", user: "mailer", password: "", from: "pki@example.com" });
    expect((await getMailSettings(h.db.prisma)).passwordSet).toBe(true);
    await updateMailSettings(h.ctx, admin, { host: "smtp.example.com", port: "587", user: "mailer", clearPassword: "on", from: "pki@example.com" });
    expect((await getMailSettings(h.db.prisma)).passwordSet).toBe(false);

    const events = await h.db.prisma.event.findMany({ where: { type: "Settings Updated", objectId: "mail" } });
    expect(events.length).toBe(3);
    expect(json(events)).not.toContain("s3cret");
    expect(events[0].summary).toContain("SMTP password replaced");

    await expect(updateMailSettings(h.ctx, auditor, { host: "evil.example.com", from: "x@example.com" })).rejects.toThrow();
    expect((await getMailSettings(h.db.prisma)).host).toBe("smtp.example.com");
    expect(await h.db.prisma.event.count({ where: { type: "Access Denied", actorName: auditor.name } })).toBe(1);
    await expect(sendTestMail(h.ctx, auditor, { to: "a@example.com" })).rejects.toThrow();
  });

  it("asks for the password again when the server changes, and saves nothing until it is given", async () => {
    await updateMailSettings(h.ctx, admin, { host: "smtp.example.com", port: "587", user: "mailer", password: "s3cret-Pa55word", from: "pki@example.com" });
    const saved = await h.db.prisma.organization.findFirstOrThrow();
    for (const moved of [
      { host: "attacker.example.net", port: "587" },
      { host: "smtp.example.com", port: "2525" },
    ]) {
      const e = await updateMailSettings(h.ctx, admin, { ...moved, user: "mailer", password: "", from: "pki@example.com" }).catch((err: unknown) => err);
      expect(e).toMatchObject({ field: "password", message: "Enter the password again: the saved one is only sent to smtp://smtp.example.com:587" });
    }
    const after = await h.db.prisma.organization.findFirstOrThrow();
    expect([after.smtpHost, after.smtpPort, Buffer.from(after.smtpPassword!).equals(Buffer.from(saved.smtpPassword!))]).toEqual([
      "smtp.example.com",
      587,
      true,
    ]);
    // The From address alone needs nothing; with the password typed again, the new server is saved.
    await updateMailSettings(h.ctx, admin, { host: "smtp.example.com", port: "587", user: "mailer", password: "", from: "noreply@example.com" });
    await updateMailSettings(h.ctx, admin, { host: "relay.example.com", port: "587", user: "mailer", password: "s3cret-Pa55word", from: "pki@example.com" });
    expect(await getMailSettings(h.db.prisma)).toMatchObject({ host: "relay.example.com", passwordSet: true });
  });

  it("asks for the password again when TLS is turned off on the same server", async () => {
    await updateMailSettings(h.ctx, admin, {
      host: "smtp.example.com",
      port: "465",
      secure: "on",
      user: "mailer",
      password: "s3cret-Pa55word",
      from: "pki@example.com",
    });
    const e = await updateMailSettings(h.ctx, admin, { host: "smtp.example.com", port: "465", user: "mailer", password: "", from: "pki@example.com" }).catch(
      (err: unknown) => err,
    );
    expect(e).toMatchObject({ field: "password", message: "Enter the password again: the saved one is only sent to smtps://smtp.example.com:465" });
    expect(await getMailSettings(h.db.prisma)).toMatchObject({ secure: true, passwordSet: true });
  });

  it("sends a test mail through the configured server and records it", async () => {
    await updateMailSettings(h.ctx, admin, { host: "127.0.0.1", port: String(smtp.port), from: "pki@example.com" });
    const r = await sendTestMail(h.ctx, admin, { to: "ops@example.com" });
    expect(r.ok).toBe(true);
    expect(smtp.received.at(-1)).toMatchObject({ from: "pki@example.com", to: ["ops@example.com"] });
    expect(smtp.received.at(-1)!.text).toContain("Subject: Attested PKI test mail");
    // Who sent it, to which server, and the result.
    const sent = await h.db.prisma.event.findFirstOrThrow({
      where: { type: "Mail Sent", summary: `Test mail sent to ops@example.com through smtp://127.0.0.1:${smtp.port}` },
    });
    expect(sent).toMatchObject({ actorName: admin.name, outcome: "success", details: { kind: "test", destination: `smtp://127.0.0.1:${smtp.port}` } });
    expect(await fieldOf(sendTestMail(h.ctx, admin, { to: "not-an-address" }))).toBe("to");
  });
});

describe("enrollment notices and expiry reminders", () => {
  it("mails the enrollment notice to the certificate's RFC822 SAN", async () => {
    h.clock.set(new Date());
    const cert = await h.issue(notifyingCa.id, { cn: "C02MAIL0001", email: "jane@example.com", deviceSerial: "C02MAIL0001" });
    const before = smtp.received.length;
    const scheduled = await scheduleEnrollmentNotice(h.db.prisma, cert.id, h.clock.now);
    expect(scheduled.scheduled).toBe(true);
    // Scheduling twice still sends one mail.
    expect(await scheduleEnrollmentNotice(h.db.prisma, cert.id, h.clock.now)).toEqual(scheduled);
    expect(await deliverPendingMail(h.ctx)).toEqual({ sent: 1, failed: 0, retrying: 0 });
    expect(smtp.received.length).toBe(before + 1);
    const mail = smtp.received.at(-1)!;
    expect(mail.to).toEqual(["jane@example.com"]);
    expect(mail.from).toBe("pki@example.com");
    expect(mail.text).toContain("Subject: Certificate issued for device C02MAIL0001");
    expect(mail.text).toContain(`Serial number:  ${cert.serialNumber}`);
    expect(mail.text).toContain("Acme Corp issued a certificate to your device");
    expect(mail.text).toContain("Issued by:      ACME CA");
    const event = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Mail Sent", certificateSerial: cert.serialNumber } });
    expect(event).toMatchObject({ outcome: "success", actorName: "mail", deviceSerial: "C02MAIL0001", summary: "Enrollment notice sent to jane@example.com" });
    expect(await deliverPendingMail(h.ctx)).toEqual({ sent: 0, failed: 0, retrying: 0 });
  });

  it("sends nothing when the RFC822 SAN is missing or invalid, or the CA does not notify", async () => {
    const before = smtp.received.length;
    const noSan = await h.issue(notifyingCa.id, { cn: "C02MAIL0002", deviceSerial: "C02MAIL0002" });
    expect(await scheduleEnrollmentNotice(h.db.prisma, noSan.id)).toEqual({ scheduled: false, reason: "the certificate has no valid RFC822 SAN" });
    // An RFC822 SAN that is not a mailbox (a certificate can carry anything the CSR said).
    const bad = await h.issue(notifyingCa.id, { cn: "C02MAIL0003", deviceSerial: "C02MAIL0003" });
    await h.db.prisma.certificate.update({ where: { id: bad.id }, data: { sans: [{ type: "rfc822", value: "jane at example.com" }], emailAddress: null } });
    expect(await scheduleEnrollmentNotice(h.db.prisma, bad.id)).toEqual({ scheduled: false, reason: "the certificate has no valid RFC822 SAN" });
    // The subject's E= is not the RFC822 SAN.
    await h.db.prisma.certificate.update({ where: { id: bad.id }, data: { sans: [], emailAddress: "jane@example.com" } });
    expect((await scheduleEnrollmentNotice(h.db.prisma, bad.id)).scheduled).toBe(false);
    const quietCa = await h.makeCa({});
    const quiet = await h.issue(quietCa.id, { cn: "C02MAIL0004", email: "joe@example.com" });
    expect(await scheduleEnrollmentNotice(h.db.prisma, quiet.id)).toEqual({ scheduled: false, reason: "the CA does not notify on enrollment" });
    expect(await deliverPendingMail(h.ctx)).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(smtp.received.length).toBe(before);
  });

  it("reminds every N days within the last 30 days before expiry, only certificates with a valid address", async () => {
    const start = new Date();
    h.clock.set(start);
    const withMail = await h.issue(notifyingCa.id, { cn: "C02EXP0001", email: "sam@example.com", deviceSerial: "C02EXP0001" });
    const noMail = await h.issue(notifyingCa.id, { cn: "C02EXP0002", deviceSerial: "C02EXP0002" });
    const cert = await h.db.prisma.certificate.findUniqueOrThrow({ where: { id: withMail.id } });
    const at = (daysLeft: number) => h.clock.set(new Date(cert.notAfter.getTime() - daysLeft * 86_400_000));
    const before = smtp.received.length;

    at(31);
    expect(await scheduleExpiryReminders(h.ctx)).toEqual({ queued: 0, skippedNoAddress: 0 });
    at(29.5);
    expect(await scheduleExpiryReminders(h.ctx)).toMatchObject({ queued: expect.any(Number), skippedNoAddress: expect.any(Number) });
    const mine = await h.db.prisma.notification.findMany({ where: { kind: "expiry", certificateId: { in: [withMail.id, noMail.id] } } });
    expect(mine.map((n) => n.recipient)).toEqual(["sam@example.com"]);
    expect((await h.db.prisma.certificate.findUniqueOrThrow({ where: { id: noMail.id } })).expiryNotifiedAt).not.toBeNull();
    await deliverPendingMail(h.ctx);
    const reminders = () => smtp.received.slice(before).filter((m) => m.to.includes("sam@example.com"));
    expect(reminders()).toHaveLength(1);
    expect(reminders()[0].text).toContain(`Subject: Certificate expires on ${cert.notAfter.toISOString().slice(0, 10)} (device C02EXP0001)`);
    expect(reminders()[0].text).toContain("expires in 30 days");
    expect(reminders()[0].text).toContain(`Serial number:  ${cert.serialNumber}`);

    // Not again the next day; again 7 days later (the CA's frequency).
    at(28.5);
    await scheduleExpiryReminders(h.ctx);
    await deliverPendingMail(h.ctx);
    expect(reminders()).toHaveLength(1);
    at(22.4);
    await scheduleExpiryReminders(h.ctx);
    await deliverPendingMail(h.ctx);
    expect(reminders()).toHaveLength(2);
    expect(reminders()[1].text).toContain("expires in 23 days");
    expect(
      await h.db.prisma.event.count({ where: { type: "Mail Sent", certificateSerial: cert.serialNumber, summary: "Expiry reminder sent to sam@example.com" } }),
    ).toBe(2);
    // After expiry: nothing.
    at(-1);
    await scheduleExpiryReminders(h.ctx);
    expect(await h.db.prisma.notification.count({ where: { kind: "expiry", certificateId: withMail.id } })).toBe(2);
  });
});

describe("delivery", () => {
  it("retries temporary failures, gives up on permanent ones, and records each outcome", async () => {
    const flaky = await startSmtp({
      rejectRcpt: (a) =>
        a.startsWith("busy") && flakyTries++ < 1
          ? { code: 451, message: "try again later" }
          : a.startsWith("nobody")
            ? { code: 550, message: "no such user" }
            : null,
    });
    let flakyTries = 0;
    try {
      h.clock.set(new Date());
      await updateMailSettings(h.ctx, admin, { host: "127.0.0.1", port: String(flaky.port), from: "pki@example.com" });
      const busy = await h.issue(notifyingCa.id, { cn: "C02RTY0001", email: "busy@example.com" });
      const nobody = await h.issue(notifyingCa.id, { cn: "C02RTY0002", email: "nobody@example.com" });
      await scheduleEnrollmentNotice(h.db.prisma, busy.id, h.clock.now);
      await scheduleEnrollmentNotice(h.db.prisma, nobody.id, h.clock.now);
      expect(await deliverPendingMail(h.ctx)).toEqual({ sent: 0, failed: 1, retrying: 1 });
      const waiting = await h.db.prisma.notification.findFirstOrThrow({ where: { certificateId: busy.id } });
      expect(waiting).toMatchObject({ status: "pending", attempts: 1 });
      expect(waiting.lastError).toContain("451");
      // Not before its retry time; then it goes through.
      expect(await deliverPendingMail(h.ctx)).toEqual({ sent: 0, failed: 0, retrying: 0 });
      h.clock.set(new Date(h.clock.now.getTime() + 61_000));
      expect(await deliverPendingMail(h.ctx)).toEqual({ sent: 1, failed: 0, retrying: 0 });
      expect(flaky.received.map((m) => m.to)).toEqual([["busy@example.com"]]);
      const failed = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Mail Failed", certificateSerial: nobody.serialNumber } });
      expect(failed.outcome).toBe("failure");
      expect(failed.summary).toMatch(/Enrollment notice to nobody@example.com failed after 1 attempt: .*550/);
    } finally {
      await flaky.close();
    }
  });

  it("fails visibly when mail is not configured", async () => {
    await updateMailSettings(h.ctx, admin, { host: "" });
    const cert = await h.issue(notifyingCa.id, { cn: "C02NOC0001", email: "kim@example.com" });
    await scheduleEnrollmentNotice(h.db.prisma, cert.id, h.clock.now);
    expect(await deliverPendingMail(h.ctx)).toEqual({ sent: 0, failed: 1, retrying: 0 });
    const e = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Mail Failed", certificateSerial: cert.serialNumber } });
    expect(e.summary).toContain("mail is not configured (Settings > Mail)");
  });

  it("authenticates with the sealed password over STARTTLS", async () => {
    const key = h.file("smtp.key");
    const crt = h.file("smtp.crt");
    openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      crt,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    );
    const secure = await startSmtp({
      disabledCommands: [],
      authOptional: false,
      key: readFileSync(key),
      cert: readFileSync(crt),
      onAuth(auth, _session, cb) {
        if (auth.username === "mailer" && auth.password === "s3cret-Pa55word") return cb(null, { user: "mailer" });
        cb(new Error("Invalid username or password"));
      },
    });
    try {
      const ctx = { ...h.ctx, smtpTls: { ca: readFileSync(crt) } };
      await updateMailSettings(ctx, admin, {
        host: "127.0.0.1",
        port: String(secure.port),
        user: "mailer",
        password: "s3cret-Pa55word",
        from: "pki@example.com",
      });
      expect((await sendTestMail(ctx, admin, { to: "ops@example.com" })).ok).toBe(true);
      expect(secure.received.at(-1)).toMatchObject({ to: ["ops@example.com"], user: "mailer" });
      // A wrong password is refused by the server and reported without the password.
      await updateMailSettings(ctx, admin, {
        host: "127.0.0.1",
        port: String(secure.port),
        user: "mailer",
        password: "wrong-password",
        from: "pki@example.com",
      });
      const r = await sendTestMail(ctx, admin, { to: "ops@example.com" });
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain("wrong-password");
      const e = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Mail Failed" }, orderBy: { id: "desc" } });
      expect(json(e)).not.toContain("wrong-password");
    } finally {
      await secure.close();
    }
  });
});
