import type { Argv } from 'yargs';

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where `watch` reads approver commands from; absent: watch only. */
  readonly stdin?: NodeJS.ReadableStream;
}

/** The options every command has (`--socket`, `--as`, `--approver-token-file`). */
export interface GlobalArgs {
  socket: string;
  /** `host:port` of a daemon's TCP+TLS approver listener (a fleet's approval plane); wins over `socket`. */
  address?: string | undefined;
  /** PEM CA bundle for `address`; the system roots when absent. */
  caFile?: string | undefined;
  as?: string | undefined;
  approverTokenFile?: string | undefined;
}

/** What a command module gets: the streams, and `done` to hand its exit code back to `main`. */
export interface CliContext {
  readonly io: CliIo;
  readonly done: (code: Promise<number>) => Promise<void>;
}

/** A command module: adds its command(s) to the parser. */
export type AddCommands = (y: Argv<GlobalArgs>, ctx: CliContext) => Argv<GlobalArgs>;
