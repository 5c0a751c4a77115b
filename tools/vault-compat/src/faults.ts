export interface VaultFaults {
  /** Requests whose path (after /v1/) starts with `pathPrefix` answer `status` with {"errors":["injected fault"]}; `times` limits how many (default: until cleared). */
  fail(pathPrefix: string, status: number, options?: { times?: number; method?: string }): void;
  /** Matching requests never get an answer (until clear() or close()). */
  hang(pathPrefix: string): void;
  /** Matching requests are delayed by `ms` real milliseconds. */
  latency(pathPrefix: string, ms: number): void;
  clear(): void;
}

type Rule =
  | { readonly kind: 'fail'; readonly prefix: string; readonly status: number; remaining: number; readonly method: string | null }
  | { readonly kind: 'hang'; readonly prefix: string }
  | { readonly kind: 'latency'; readonly prefix: string; readonly ms: number };

export type FaultDecision = { readonly kind: 'pass' } | { readonly kind: 'fail'; readonly status: number } | { readonly kind: 'hang' };

const normalise = (prefix: string): string => prefix.replace(/^\/+/, '').replace(/^v1\//, '');

/** Fault rules, checked on every request before anything else (sealing included). */
export class FaultInjector implements VaultFaults {
  #rules: Rule[] = [];
  readonly #hung = new Set<() => void>();
  readonly #delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  fail(pathPrefix: string, status: number, options: { times?: number; method?: string } = {}): void {
    this.#rules.push({ kind: 'fail', prefix: normalise(pathPrefix), status, remaining: options.times ?? Infinity, method: options.method?.toUpperCase() ?? null });
  }

  hang(pathPrefix: string): void {
    this.#rules.push({ kind: 'hang', prefix: normalise(pathPrefix) });
  }

  latency(pathPrefix: string, ms: number): void {
    this.#rules.push({ kind: 'latency', prefix: normalise(pathPrefix), ms });
  }

  /** Drops every rule and ends every hung request (its connection is closed without an answer). */
  clear(): void {
    this.#rules = [];
    for (const end of this.#hung) end();
    this.#hung.clear();
  }

  /** `clear()` plus releasing delayed requests at once. */
  close(): void {
    this.clear();
    for (const d of this.#delays) {
      clearTimeout(d.timer);
      d.resolve();
    }
    this.#delays.clear();
  }

  /** Applies latency rules (waiting real time), then says whether to fail, hang or go on. */
  async decide(method: string, path: string): Promise<FaultDecision> {
    const matching = this.#rules.filter((r) => path.startsWith(r.prefix));
    for (const rule of matching) {
      if (rule.kind !== 'latency') continue;
      await new Promise<void>((resolve) => {
        const entry = { timer: setTimeout(() => {
          this.#delays.delete(entry);
          resolve();
        }, rule.ms), resolve };
        this.#delays.add(entry);
      });
    }
    for (const rule of matching) {
      if (rule.kind === 'hang') return { kind: 'hang' };
      if (rule.kind === 'fail' && rule.remaining > 0 && (rule.method === null || rule.method === method)) {
        rule.remaining -= 1;
        if (rule.remaining === 0) this.#rules = this.#rules.filter((r) => r !== rule);
        return { kind: 'fail', status: rule.status };
      }
    }
    return { kind: 'pass' };
  }

  /** Registers a hung request's way out. */
  holdUntilCleared(end: () => void): void {
    this.#hung.add(end);
  }
}
