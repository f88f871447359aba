/**
 * Parses memory sizes as QEMU's -m does: a number with an optional K, M or G suffix (binary
 * units); a bare number means MiB, as in QEMU.
 */
import { MAX_RAM } from '../cpu/state.js';

export class SizeError extends Error {}

export function parseMemSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  if (!m) throw new SizeError(`invalid memory size '${text}' (use e.g. 64M, 512M, 1G)`);
  const unit = m[2].toUpperCase();
  const mult = unit === 'K' ? 1024 : unit === 'G' ? 1024 ** 3 : unit === 'T' ? 1024 ** 4 : 1024 ** 2;
  const bytes = Math.floor(parseFloat(m[1]) * mult);
  if (bytes < 2 * 1024 * 1024) throw new SizeError(`memory size '${text}' is too small (at least 2M)`);
  if (bytes > MAX_RAM) throw new SizeError(`memory size '${text}' is above the 3G limit (the rest of the 4 GiB space holds MMIO and ringvm's own state)`);
  if (bytes % 4096 !== 0) throw new SizeError(`memory size '${text}' is not a multiple of 4K`);
  return bytes;
}

export function formatSize(bytes: number): string {
  if (bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  return `${bytes / 1024} KiB`;
}
