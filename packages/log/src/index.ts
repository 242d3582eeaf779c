// One logger for the process: pino, one JSON line per event on stdout. Every line written while a
// request is served carries its id (`requestId`), taken from the request's async context.
import { AsyncLocalStorage } from "node:async_hooks";
import pino from "pino";

export type Logger = pino.Logger;

export interface LogState {
  /** The id of the request being served, for whatever runs on its behalf (awaits, callbacks). */
  requests: AsyncLocalStorage<string>;
  root?: Logger;
}

// Next.js bundles its own copy of this module beside the server's (server/main.ts). Both copies must
// share the request context and the root logger: the server's state travels with its services over
// their one bridge (apps/portal/server/services.ts), and Next's copy adopts it.
let state: LogState = { requests: new AsyncLocalStorage<string>() };

/** This copy's request context and root logger, to hand to another copy of this module. */
export function logState(): LogState {
  return state;
}

/** Makes this copy log through `shared` (another copy's logState()): one request context, one root logger. */
export function adoptLogState(shared: LogState): void {
  state = shared;
}

/** Runs `fn` as the serving of request `requestId`: every line it logs carries that id. */
export function runWithRequest<T>(requestId: string, fn: () => T): T {
  return state.requests.run(requestId, fn);
}

/** The id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return state.requests.getStore();
}

function requestMixin(): { requestId?: string } {
  const requestId = state.requests.getStore();
  return requestId === undefined ? {} : { requestId };
}

const OPTIONS: pino.LoggerOptions = {
  base: { service: "attested-pki" },
  // Credentials never reach the log, whatever a caller passes along.
  redact: ["req.headers.authorization", "req.headers.cookie"],
  mixin: requestMixin,
};

/**
 * stdout, buffered and written at least every second (and at exit), not one write(2) per line: under
 * load a synchronous write per ACME request cost as much as its database round trips.
 */
function bufferedStdout(): pino.DestinationStream {
  const out = pino.destination({ sync: false, minLength: 8192 });
  setInterval(() => out.flush(), 1000).unref();
  process.on("exit", () => {
    try {
      out.flushSync();
    } catch {
      // stdout already gone
    }
  });
  return out;
}

/**
 * Creates the server's root logger (buffered stdout unless `destination` is given) and makes it the
 * one `logger()` returns in this process, in Next's module copy too.
 */
export function createRootLogger(opts: { destination?: pino.DestinationStream; level?: pino.LevelWithSilent } = {}): Logger {
  state.root = pino({ ...OPTIONS, ...(opts.level ? { level: opts.level } : {}) }, opts.destination ?? bufferedStdout());
  return state.root;
}

/**
 * The process's root logger. Outside the server (tests, scripts) it is made on first use and writes
 * synchronously. Call it when logging rather than keep it from import time: the server creates its
 * root after the packages are loaded.
 */
export function logger(): Logger {
  return (state.root ??= pino(OPTIONS, pino.destination({ sync: true })));
}

/** A logger that writes nothing (a component run without one, e.g. in tests). */
export function silentLogger(): Logger {
  return pino({ enabled: false });
}
