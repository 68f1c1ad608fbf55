/**
 * Built-in policies by name, and loading a user's policy module from a path
 * (`policy=./my-policy.js`). A module must export (default or `policy`) an
 * object implementing BypassPolicy; anything else is a clear error.
 */
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import { UserError } from '../util/errors.js';
import type { BypassPolicy } from './policy.js';
import { directPolicy } from './direct.js';
import { iommuPolicy } from './iommu.js';
import { intel2019Policy } from './intel-2019.js';
import { bypassFlagPolicy } from './bypass-flag.js';
import { defaultDomainPolicy } from './default-domain.js';
import { commitOnMapPolicy } from './commit-on-map.js';

export const BUILTIN_POLICIES: readonly BypassPolicy[] = [
  directPolicy,
  iommuPolicy,
  intel2019Policy,
  bypassFlagPolicy,
  defaultDomainPolicy,
  commitOnMapPolicy,
];

export const BUILTIN_POLICY_NAMES = BUILTIN_POLICIES.map((p) => p.name);

export function builtinPolicy(name: string): BypassPolicy | undefined {
  return BUILTIN_POLICIES.find((p) => p.name === name);
}

/** Looks like a path rather than a built-in name. */
export function isPolicyPath(spec: string): boolean {
  return spec.includes('/') || spec.endsWith('.js') || spec.endsWith('.mjs') || spec.endsWith('.ts');
}

const loaded = new Map<string, BypassPolicy>();

/**
 * Resolves a policy name or module path. `baseDir` anchors relative paths
 * (the program file's folder, or the working directory for CLI flags).
 */
/**
 * Policy modules whose import has not settled. A module whose top-level await never settles leaves
 * nothing for the event loop to do, and Node would exit 0 with no output; the CLI asks this at that
 * point (`beforeExit`) to say which module it was.
 */
const pendingModules = new Set<string>();

export function unsettledPolicyModules(): string[] {
  return [...pendingModules];
}

export async function resolvePolicy(spec: string, baseDir: string = process.cwd(), where?: string): Promise<BypassPolicy> {
  const builtin = builtinPolicy(spec);
  if (builtin) return builtin;
  if (!isPolicyPath(spec)) {
    throw new UserError(`${where ? where + ': ' : ''}unknown policy '${spec}' (expected one of: ${BUILTIN_POLICY_NAMES.join(', ')}, or a path to a policy module like ./my-policy.js)`);
  }
  const file = path.resolve(baseDir, spec);
  const cached = loaded.get(file);
  if (cached) return cached;
  if (!fs.existsSync(file)) throw new UserError(`${where ? where + ': ' : ''}policy module '${spec}' not found (looked for ${file})`);
  let mod: Record<string, unknown>;
  pendingModules.add(file);
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`${file}: cannot load policy module: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    pendingModules.delete(file);
  }
  const policy = checkPolicyShape(mod.default ?? mod.policy, file);
  loaded.set(file, policy);
  return policy;
}

/** Validates a user's module against the interface, naming what is missing. */
export function checkPolicyShape(candidate: unknown, file: string): BypassPolicy {
  if (typeof candidate !== 'object' || candidate === null) {
    throw new UserError(`${file}: a policy module must export default an object with name, probe, maskChanged and route (found ${candidate === null ? 'null' : typeof candidate})`);
  }
  const c = candidate as Record<string, unknown>;
  const missing: string[] = [];
  if (typeof c.name !== 'string' || c.name === '') missing.push('name (a string)');
  for (const fn of ['route'] as const) if (typeof c[fn] !== 'function') missing.push(`${fn}(call, device, facts) (a function)`);
  for (const fn of ['probe', 'maskChanged'] as const) if (c[fn] !== undefined && typeof c[fn] !== 'function') missing.push(`${fn} (a function, if given)`);
  if (missing.length > 0) throw new UserError(`${file}: the policy module does not implement the interface: missing ${missing.join(', ')}`);
  return {
    name: c.name as string,
    description: typeof c.description === 'string' ? c.description : `user policy from ${file}`,
    probe: (c.probe as BypassPolicy['probe']) ?? (() => ({ attach: 'fresh-translated' })),
    maskChanged: (c.maskChanged as BypassPolicy['maskChanged']) ?? (() => ({})),
    route: c.route as BypassPolicy['route'],
  };
}
