/** The floor's activity: does nothing, so that what it costs is Temporal's and the worker's alone. */
export const floorActivities = {
  async noop(): Promise<void> {},
};
export type FloorActivities = typeof floorActivities;
