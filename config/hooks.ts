import { z } from 'zod';
import { HOOKS, HOOK_FAILURE_POLICIES, type HookName } from '../contract/hooks';
import { commandSchema, runnerFields, type CommandSpec } from '../drivers/command/settings';

/**
 * An environment's hooks (`hooks:` in temporal.yaml): commands run on the worker's host through the
 * command driver's runner (same secrets rules, timeouts, process groups, masking, child environment),
 * before and after enable and disable. Each gets MAINTENANCE_ENVIRONMENT, MAINTENANCE_HOOK,
 * MAINTENANCE_ACTION, MAINTENANCE_OPERATION, MAINTENANCE_REQUESTED_BY and MAINTENANCE_REASON.
 */
export const hooksSchema = z
  .object({
    ...runnerFields,
    /** A `before` hook that fails: refuse the operation (default), or a Failed step awaiting resume or abort. */
    onFailure: z
      .enum(HOOK_FAILURE_POLICIES, {
        errorMap: () => ({
          message:
            'onFailure is "refuse" (a failed before hook refuses the operation, nothing changed) or "decide" (a Failed step: resume or abort)',
        }),
      })
      .default('refuse'),
    ...(Object.fromEntries(HOOKS.map((h) => [h, commandSchema.optional()])) as Record<
      HookName,
      z.ZodOptional<typeof commandSchema>
    >),
  })
  .strict()
  .refine((h) => HOOKS.some((name) => h[name]), {
    message: `hooks: give at least one of ${HOOKS.join(', ')}, e.g. beforeEnable: { argv: [pwsh, -File, stop-batch.ps1] }`,
  });
export type HooksConfig = z.infer<typeof hooksSchema>;

/** The hooks as a runner runs them: their shared settings and each hook as a named command. */
export function hookRunnerSettings(hooks: HooksConfig) {
  const { workingDirectory, env, timeout, retryableExitCodes, outputLimitBytes } = hooks;
  const commands: Partial<Record<HookName, CommandSpec>> = Object.fromEntries(
    HOOKS.flatMap((h) => (hooks[h] ? [[h, hooks[h]]] : [])),
  );
  return { workingDirectory, env, timeout, retryableExitCodes, outputLimitBytes, commands };
}
