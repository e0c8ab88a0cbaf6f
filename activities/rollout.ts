import { ApplicationFailure } from '@temporalio/activity';
import {
  DEFAULT_INSTALLATION,
  declaredTags,
  scheduleIdOnServer,
  scheduledWorkflowOf,
  taggedEnvironments,
  type Config,
} from '../config/schema';
import type { SignerKey } from '../contract/approval';
import { ErrorType } from '../contract/errors';
import { signerKeys } from './trust';

export interface RolloutTargetsInput {
  environments?: string[];
  tag?: string;
}
export interface RolloutSettings {
  /** The environments to service, in temporal.yaml's order for a tag, as given for a list. */
  environments: string[];
  searchAttributes: boolean;
  /**
   * When some targets are protected: the rollout's requester must be proved (a signed start, or a run
   * its schedule started). Absent in rollouts of earlier releases.
   */
  signing?: {
    protectedTargets: string[];
    keys: SignerKey[];
    schedules: { scheduleId: string; requestedBy: string }[];
  };
}

/** A rollout's targets from the worker's temporal.yaml: a tag's environments, or a list checked against it. */
export function createRolloutActivities(deps: {
  environments: Config['environments'];
  searchAttributes: boolean;
  people?: Config['people'];
  schedules?: Config['schedules'];
  installation?: string;
}) {
  /** The settings of a rollout over `environments`. */
  const settings = (environments: string[]): RolloutSettings => {
    const protectedTargets = environments.filter((e) => deps.environments[e].protected);
    if (protectedTargets.length === 0) return { environments, searchAttributes: deps.searchAttributes };
    const installation = deps.installation ?? DEFAULT_INSTALLATION;
    const schedules = (deps.schedules ?? [])
      .filter((s) => s.rollout)
      .map((s) => ({
        scheduleId: scheduleIdOnServer(installation, s.id),
        requestedBy: scheduledWorkflowOf(s).input.requestedBy,
      }));
    const keys = signerKeys(deps.people ?? {});
    return {
      environments,
      searchAttributes: deps.searchAttributes,
      signing: { protectedTargets, keys, schedules },
    };
  };
  return {
    /** Local activity: resolves the targets; unknown names and empty tags fail at once, nothing started. */
    async resolveRolloutTargets({ environments, tag }: RolloutTargetsInput): Promise<RolloutSettings> {
      if (tag !== undefined) {
        const tagged = taggedEnvironments(deps.environments, tag);
        if (tagged.length === 0) {
          const tags = declaredTags(deps.environments).join(', ') || 'none';
          throw ApplicationFailure.nonRetryable(
            `No environment has the tag "${tag}" (tags in temporal.yaml: ${tags}). Nothing was started. ` +
              'Add `tags: [...]` to the environments in temporal.yaml, or name them with "environments".',
            ErrorType.InvalidInput,
          );
        }
        return settings(tagged);
      }
      const unknown = (environments ?? []).filter((e) => !deps.environments[e]);
      if (unknown.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `Unknown environment${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => `"${e}"`).join(', ')}. ` +
            `Known environments: ${Object.keys(deps.environments).join(', ')}. Nothing was started.`,
          ErrorType.UnknownEnvironment,
        );
      }
      return settings(environments ?? []);
    },
  };
}
