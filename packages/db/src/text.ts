// PostgreSQL text and jsonb cannot hold NUL (U+0000) or a lone UTF-16 surrogate, and a device, an MDM
// answer or a CSR can carry either. Each becomes U+FFFD: still visible, and the row is written.
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `s` as PostgreSQL can store it: NUL and lone surrogates replaced by U+FFFD. */
export const storableText = (s: string): string => s.replace(UNSTORABLE, "\ufffd");

/** `s` as a LIKE/ILIKE pattern (and Prisma `contains`) that matches it literally: `%`, `_` and `\` escaped. */
export const likeLiteral = (s: string): string => s.replace(/[%_\\]/g, (c) => `\\${c}`);
