/**
 * The modules every workflow run shares (the bundle's `preloadModules`, worker/create-worker.ts):
 * the contract and zod. Without it the worker evaluates them anew for every run it starts or
 * replays, about 0.5 MiB of schemas and 2 to 3 ms of CPU a run, which a cache of a few hundred runs
 * holds hundreds of times over. They hold no state of a run, only constants and pure functions.
 *
 * Once this module has run, the SDK deep-freezes what they export, so zod's lazy caches on those
 * schemas are filled here: a frozen schema could not fill them later, and its parse would throw.
 * For the same reason the contract never uses `.regex()` (contract/validation.ts `matches`).
 */
import { z } from 'zod';
import * as approval from '../contract/approval';
import * as booking from '../contract/booking';
import * as environment from '../contract/environment';
import * as errors from '../contract/errors';
import * as events from '../contract/events';
import * as freeze from '../contract/freeze';
import * as hooks from '../contract/hooks';
import * as impact from '../contract/impact';
import * as metrics from '../contract/metrics';
import * as operation from '../contract/operation';
import * as plan from '../contract/plan';
import * as priority from '../contract/priority';
import * as rollout from '../contract/rollout';
import * as signing from '../contract/signing';
import * as sshsig from '../contract/sshsig';
import * as validation from '../contract/validation';
import * as window from '../contract/window';

export const SHARED_MODULES = {
  approval,
  booking,
  environment,
  errors,
  events,
  freeze,
  hooks,
  impact,
  metrics,
  operation,
  plan,
  priority,
  rollout,
  signing,
  sshsig,
  validation,
  window,
};

/**
 * Calls `visit` on every schema reachable from `value` through properties, as deep-freezing walks
 * them, each before its properties are walked (so caches it fills are walked too).
 */
export function forEachSchema(
  value: unknown,
  visit: (schema: z.ZodTypeAny) => void,
  seen = new Set<unknown>(),
): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (value instanceof z.ZodType) visit(value);
  for (const child of Object.values(value)) forEachSchema(child, visit, seen);
}

/** The cache of an object's keys that zod fills on first parse. */
interface LazyCaches {
  _getCached(): unknown;
}

/** Fills zod's lazy caches of a schema: an object's keys, an enum's values. */
function fillCaches(schema: z.ZodTypeAny): void {
  if (schema instanceof z.ZodObject) (schema as unknown as LazyCaches)._getCached();
  if (schema instanceof z.ZodEnum || schema instanceof z.ZodNativeEnum) schema.safeParse('');
}

forEachSchema(SHARED_MODULES, fillCaches);
