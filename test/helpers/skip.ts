/**
 * The one way a test skips: `{ skip: skipUnless(available, 'what') }`. Outside CI a missing component skips with
 * the reason; under `CI=true` it throws, so a broken install step fails the run instead of passing unnoticed.
 */
export function skipUnless(available: boolean, what: string): string | false {
  if (available) return false;
  if (process.env['CI'] === 'true') throw new Error(`${what} is required in CI but missing`);
  return `${what} not available`;
}
