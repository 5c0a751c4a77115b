/**
 * The parts of a file that are valid on their own. When the whole file fails the schema, the
 * cross-checks still run on every section (and every resource and rule) that parsed, so one run
 * reports a bad duration and a rule naming an unknown resource together.
 */
import type { z } from 'zod';
import { ownRecord, ownValue } from '../../common/own-keys.js';
import {
  auditSchema,
  fleetSchema,
  groupsSchema,
  httpSchema,
  identitySchema,
  listenSchema,
  policySchema,
  resourceSchema,
  stateSchema,
  vaultSchema,
  type RawConfig,
  type RawPolicy,
  type RawResource,
} from './schema.js';

export interface ConfigSections {
  readonly listen?: RawConfig['listen'];
  readonly state?: RawConfig['state'];
  readonly fleet?: RawConfig['fleet'];
  readonly audit?: RawConfig['audit'];
  readonly vault?: RawConfig['vault'];
  readonly identity?: RawConfig['identity'];
  readonly groups?: RawConfig['groups'];
  readonly http?: RawConfig['http'];
  /** The resources valid on their own, by name. */
  readonly resources: Readonly<Record<string, RawResource>>;
  /** Every name under `resources:`, valid or not: a rule may name a resource that has a typo of its own. */
  readonly resourceNames: readonly string[];
  /** The rules valid on their own, with their index in the file. */
  readonly policies: readonly (readonly [number, RawPolicy])[];
  /** `notifiers:` entries as written; checked by notifier-settings.ts. */
  readonly notifiers: readonly unknown[];
  /** Top-level keys present in the file whose section failed the schema (absent is not failed: defaults apply). */
  readonly failed: ReadonlySet<string>;
}

function part<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sections of a file that passed the schema as a whole. */
export function sectionsOfValid(raw: RawConfig): ConfigSections {
  return {
    ...(raw.listen && { listen: raw.listen }),
    ...(raw.state && { state: raw.state }),
    ...(raw.fleet && { fleet: raw.fleet }),
    ...(raw.audit && { audit: raw.audit }),
    vault: raw.vault,
    ...(raw.identity && { identity: raw.identity }),
    ...(raw.groups && { groups: raw.groups }),
    ...(raw.http && { http: raw.http }),
    resources: raw.resources,
    resourceNames: Object.keys(raw.resources),
    policies: (raw.policies ?? []).map((policy, i) => [i, policy] as const),
    notifiers: raw.notifiers ?? [],
    failed: new Set(),
  };
}

const SECTION_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  listen: listenSchema,
  state: stateSchema,
  fleet: fleetSchema,
  audit: auditSchema,
  vault: vaultSchema,
  identity: identitySchema,
  groups: groupsSchema,
  http: httpSchema,
};

/** Whether a section with a schema of its own parses as a whole (sections without one count as parsed). */
function wholeSection(key: string, value: unknown): boolean {
  // Own keys only: a top-level `__proto__` or `constructor` would find Object.prototype's members.
  const schema = ownValue(SECTION_SCHEMAS, key);
  return schema === undefined || schema.safeParse(value).success;
}

/** Sections of a file that failed the schema: each parsed alone, the failing ones left out. */
export function sectionsOfInvalid(doc: Record<string, unknown>): ConfigSections {
  const listen = part(listenSchema, doc.listen);
  const state = part(stateSchema, doc.state);
  const fleet = part(fleetSchema, doc.fleet);
  const audit = part(auditSchema, doc.audit);
  const vault = part(vaultSchema, doc.vault);
  const identity = part(identitySchema, doc.identity);
  const groups = part(groupsSchema, doc.groups);
  const http = part(httpSchema, doc.http);
  const writtenResources = isMapping(doc.resources) ? doc.resources : {};
  const resources = ownRecord<RawResource>([]);
  for (const [name, value] of Object.entries(writtenResources)) {
    const parsed = part(resourceSchema, value);
    if (parsed !== undefined) resources[name] = parsed;
  }
  const policies: (readonly [number, RawPolicy])[] = [];
  if (Array.isArray(doc.policies)) {
    doc.policies.forEach((value: unknown, i) => {
      const parsed = part(policySchema, value);
      if (parsed !== undefined) policies.push([i, parsed]);
    });
  }
  return {
    ...(listen && { listen }),
    ...(state && { state }),
    ...(fleet && { fleet }),
    ...(audit && { audit }),
    ...(vault && { vault }),
    ...(identity && { identity }),
    ...(groups && { groups }),
    ...(http && { http }),
    resources,
    resourceNames: Object.keys(writtenResources),
    policies,
    notifiers: Array.isArray(doc.notifiers) ? (doc.notifiers as unknown[]) : [],
    failed: new Set(Object.keys(doc).filter((key) => doc[key] !== undefined && !wholeSection(key, doc[key]))),
  };
}
