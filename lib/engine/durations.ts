// Durations as people write them (30s, 5m, 1h, 1500ms) and as the tools
// print them (2 h 11 min 15 s): for TCP_KEEPALIVE and the tools; and counts
// as the tools print them (1 probe, 3 probes).

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/**
 * Parses `30s`, `5m`, `1h`, `1500ms` or plain ms into whole milliseconds:
 * digits, optionally a fraction, then a unit. Read by hand: the preload
 * parses TCP_KEEPALIVE before the application runs, and compiling a regular
 * expression for it was the largest single cost of that parse (two durations
 * took 0.19-0.28 ms with one, 0.06-0.09 ms by hand).
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  let end = 0;
  while (isDigit(t.charCodeAt(end))) end++;
  if (end > 0 && t[end] === '.' && isDigit(t.charCodeAt(end + 1))) for (end += 2; isDigit(t.charCodeAt(end)); end++);
  const unit = end === t.length ? 'ms' : t.slice(end);
  const ms = end > 0 && Object.hasOwn(UNITS, unit) ? Number(t.slice(0, end)) * UNITS[unit]! : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new Error(`'${text}' is not a duration (use 30s, 5m, 1h, 1500ms or whole milliseconds)`);
  }
  return ms;
}

/** 7875000 -> "2 h 11 min 15 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const parts: string[] = [];
  let s = ms / 1000;
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['min', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${Number.isInteger(s) ? s : s.toFixed(1)} s`);
  return parts.join(' ');
}

/** 1, 'probe' -> "1 probe"; 3, 'probe' -> "3 probes". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
