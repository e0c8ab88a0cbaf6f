import { z } from 'zod';
import { impactReportSchema } from '../../contract/impact';
import { aosRoleSchema } from '../../contract/operation';
import type { AosStatus } from '../capabilities';
import type { CommandName } from './settings';

const aosStatusSchema: z.ZodType<AosStatus> = z.enum([
  'running',
  'stopped',
  'starting',
  'stopping',
  'crashed',
]);

/** A user name, or nothing: PowerShell's ConvertTo-Json prints a missing one as null. */
const probeUser = z
  .string()
  .min(1)
  .nullish()
  .transform((v) => v ?? undefined);

/** The JSON the commands that report state print (drivers/command/settings.ts, COMMANDS). */
export const OUTPUTS = {
  readFlag: z.object({ configurationMode: z.union([z.literal(0), z.literal(1)]) }),
  listAos: z.array(
    z.object({
      id: z.string().min(1),
      role: aosRoleSchema,
      status: aosStatusSchema,
      maintenanceMode: z.boolean().nullable(),
    }),
  ),
  probeUsers: z.object({ administrator: probeUser, maintenanceUser: probeUser, regularUser: probeUser }),
  signIn: z.object({ allowed: z.boolean(), detail: z.string().optional() }),
  listKeys: z.record(z.string(), z.boolean()),
  readImpact: impactReportSchema,
} satisfies Partial<Record<CommandName, z.ZodTypeAny>>;
export type JsonCommand = keyof typeof OUTPUTS;
