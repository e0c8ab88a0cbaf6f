/** Change freezes for tests: a local UTC time in temporal.yaml's format, minutes from now. */
export const minutesFromNow = (minutes: number, from = Date.now()): string =>
  new Date(Math.floor(from / 60_000) * 60_000 + minutes * 60_000).toISOString().slice(0, 16);
