// Addresses as Node shows them (socket.remoteAddress), from the bytes the
// kernel gives in network order: for inspect's rows and the dead-peer event.

/** Four bytes as a.b.c.d. */
const formatIPv4 = (bytes: readonly number[]): string => bytes.slice(0, 4).join('.');

/** An IPv6 address as libuv's inet_ntop writes it, as Node shows it: `::1`, `::ffff:127.0.0.1`, `fe80::1`. */
export function formatIPv6(bytes: readonly number[]): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // An IPv4 address inside IPv6 (mapped ::ffff:a.b.c.d, or compatible ::a.b.c.d).
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 7 && words[7] !== 1) || (best.len === 5 && words[5] === 0xffff))) {
      out += bytes.slice(12, 16).join('.');
      break;
    }
    out += words[i]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

/** An address of family 4 or 6 from its bytes in network order. */
export const formatAddress = (family: number, bytes: readonly number[]): string => (family === 4 ? formatIPv4(bytes) : formatIPv6(bytes));

/** The bytes of an address carried as four 32-bit words, most significant byte first (src/binding.cc Words); 4 bytes for IPv4. */
export function wordBytes(words: ArrayLike<number>, at: number, family: number): number[] {
  const all = [];
  for (let w = 0; w < (family === 4 ? 1 : 4); w++) {
    const word = words[at + w]!;
    all.push(word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
  }
  return all;
}
