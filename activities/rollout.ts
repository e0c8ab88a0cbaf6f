import { ApplicationFailure } from '@temporalio/activity';
import { declaredTags, taggedEnvironments, type Config } from '../config/schema';
import { ErrorType } from '../contract/errors';

export interface RolloutTargetsInput {
  environments?: string[];
  tag?: string;
}
export interface RolloutSettings {
  /** The environments to service, in temporal.yaml's order for a tag, as given for a list. */
  environments: string[];
  searchAttributes: boolean;
}

/** A rollout's targets from the worker's temporal.yaml: a tag's environments, or a list checked against it. */
export function createRolloutActivities(deps: {
  environments: Config['environments'];
  searchAttributes: boolean;
}) {
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
        return { environments: tagged, searchAttributes: deps.searchAttributes };
      }
      const unknown = (environments ?? []).filter((e) => !deps.environments[e]);
      if (unknown.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `Unknown environment${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => `"${e}"`).join(', ')}. ` +
            `Known environments: ${Object.keys(deps.environments).join(', ')}. Nothing was started.`,
          ErrorType.UnknownEnvironment,
        );
      }
      return { environments: environments ?? [], searchAttributes: deps.searchAttributes };
    },
  };
}
