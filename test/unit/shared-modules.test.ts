import type { z } from 'zod';
import { SHARED_MODULES, forEachSchema } from '../../workflows/shared';
import { servicingInputSchema } from '../../contract/operation';

/** As the SDK freezes preloaded modules (reusable-vm.js deepFreeze): objects deeply, functions shallowly. */
function deepFreeze(value: unknown, seen = new Set<unknown>()): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
  seen.add(value);
  if (typeof value === 'object') {
    for (const key of Reflect.ownKeys(value)) {
      try {
        deepFreeze((value as Record<string | symbol, unknown>)[key], seen);
      } catch {
        // as the SDK: some objects (typed arrays) cannot be frozen
      }
    }
  }
  try {
    Object.freeze(value);
  } catch {
    // idem
  }
}

describe('the modules every workflow run shares', () => {
  beforeAll(() => deepFreeze(SHARED_MODULES));

  it('parse once frozen, as the worker shares them: every schema, for inputs of every kind', () => {
    const schemas = new Set<z.ZodTypeAny>();
    forEachSchema(SHARED_MODULES, (schema) => schemas.add(schema));
    expect(schemas.size).toBeGreaterThan(100);
    const probes = [undefined, null, '', 'a', 'contoso-sandbox', 0, 1.5, true, {}, [], ['a'], { a: 1 }];
    for (const schema of schemas) {
      for (const probe of probes) {
        // A frozen schema that writes to itself (zod's `.regex()`, an unfilled cache) throws here.
        expect(() => schema.safeParse(probe)).not.toThrow();
      }
    }
  });

  it('still validate as before: a good input passes, a bad one says what is wrong', () => {
    expect(
      servicingInputSchema.safeParse({ environment: 'contoso-sandbox', requestedBy: 'jane.doe' }).success,
    ).toBe(true);
    const bad = servicingInputSchema.safeParse({ environment: 'Contoso Sandbox', requestedBy: 'jane.doe' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('environment names are lower-case letters, digits and dashes');
  });
});
