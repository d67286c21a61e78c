/** What every handler needs from its surroundings, besides the clients it creates for itself. */

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The time source: the real one in Lambda, a simulated one in the local cloud. Never slept on. */
export interface Clock {
  now(): Date;
  /** Waits before a retry; optional, a clock without it retries at once. */
  sleep?(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
