import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { FlexyStats, StatsStream } from '../types.js';

/** The parts of the engine's stats document Kai reads (cgroup v1 and v2 differ in the memory keys). */
interface EngineStats {
  read?: string;
  pids_stats?: { current?: number };
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The same arithmetic as `docker stats`. */
export function toFlexyStats(id: string, raw: EngineStats): FlexyStats {
  const cpu = raw.cpu_stats ?? {};
  const pre = raw.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const onlineCpus = cpu.online_cpus || cpu.cpu_usage?.percpu_usage?.length || 1;
  const cpuPercent = systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * onlineCpus * 100 : 0;

  const memory = raw.memory_stats ?? {};
  const inner = memory.stats ?? {};
  // Page cache is reclaimable: v2 reports it as inactive_file, v1 as total_inactive_file (or cache).
  const cache = inner.inactive_file ?? inner.total_inactive_file ?? inner.cache ?? 0;
  const usedBytes = Math.max(0, (memory.usage ?? 0) - cache);
  const limitBytes = memory.limit ?? 0;

  let rxBytes = 0;
  let txBytes = 0;
  for (const network of Object.values(raw.networks ?? {})) {
    rxBytes += network.rx_bytes ?? 0;
    txBytes += network.tx_bytes ?? 0;
  }
  let readBytes = 0;
  let writeBytes = 0;
  for (const entry of raw.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (entry.op ?? '').toLowerCase();
    if (op === 'read') readBytes += entry.value ?? 0;
    if (op === 'write') writeBytes += entry.value ?? 0;
  }
  return {
    id,
    read: raw.read && !raw.read.startsWith('0001-') ? new Date(raw.read).toISOString() : new Date().toISOString(),
    cpuPercent: round(cpuPercent),
    onlineCpus,
    memory: { usedBytes, limitBytes, percent: limitBytes > 0 ? round((usedBytes / limitBytes) * 100) : 0 },
    network: { rxBytes, txBytes },
    blockIo: { readBytes, writeBytes },
    pids: raw.pids_stats?.current ?? 0,
  };
}

/** One sample; the engine takes two readings about a second apart so the CPU figure is meaningful. */
export async function readStats(docker: Dockerode, id: string): Promise<FlexyStats> {
  const raw = (await docker.getContainer(id).stats({ stream: false })) as unknown as EngineStats;
  return toFlexyStats(id, raw);
}

/** A sample about every second (the engine's pace) until closed or the container stops. */
export async function streamStats(docker: Dockerode, id: string): Promise<StatsStream> {
  const source = (await docker.getContainer(id).stats({ stream: true })) as unknown as Readable;
  async function* iterate(): AsyncGenerator<FlexyStats> {
    let pending = '';
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        pending += chunk.toString('utf8');
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line) yield toFlexyStats(id, JSON.parse(line) as EngineStats);
        }
      }
    } catch {
      // Closed from Kai's side, or the engine went away: the stream simply ends.
    } finally {
      source.destroy();
    }
  }
  const iterator = iterate();
  return { close: () => source.destroy(), [Symbol.asyncIterator]: () => iterator };
}
