import { hash, verify } from "@node-rs/argon2";
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as en from "@zxcvbn-ts/language-en";
import { DomainError } from "@attested/errors";

// argon2id with OWASP's minimum memory (19 MiB), 2 passes.
const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string) => hash(password, OPTIONS);

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

// Verified against when the email is unknown, so both paths cost the same time.
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashPassword(`not-a-real-password-${Math.random()}`));

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/** A strong random password (about 131 bits), for the generated first admin. */
export function generatePassword(length = 22): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
  let out = "";
  for (const b of bytes) {
    if (b < 256 - (256 % ALPHABET.length)) out += ALPHABET[b % ALPHABET.length];
    if (out.length === length) break;
  }
  return out;
}

// zxcvbn score 3 of 4: "safely unguessable", resists an offline attack on a slow hash.
const MIN_SCORE = 3;
let estimator: ZxcvbnFactory | undefined;

/**
 * Refuses common and guessable passwords (dictionaries, keyboard patterns, dates, the user's own
 * email and name), wherever a password is set. Built on first use: the dictionaries cost ~300 ms.
 */
export function assertStrongPassword(password: string, user: { email: string; name?: string }, field = "password"): void {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  });
  const email = user.email.trim().toLowerCase();
  const name = (user.name ?? "").toLowerCase();
  const local = email.split("@")[0];
  const inputs = [
    email,
    local,
    local.replace(/[^a-z0-9]/g, ""),
    ...email.split(/[@.+_-]/),
    name.replace(/\s+/g, ""),
    ...name.split(/\s+/),
    "attested",
    "pki",
  ].filter((w) => w.length > 2);
  const result = estimator.check(password, inputs);
  if (result.score >= MIN_SCORE) return;
  const why = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(" ");
  throw new DomainError(`This password is too easy to guess.${why ? ` ${why}` : ""}`, 400, field);
}
