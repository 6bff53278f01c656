import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../src/db/open.js';
import { removeInstance } from './support/docker.js';
import { uniqueId } from './support/kai.js';
import { spawnKai, type RunningKai } from './support/kai-process.js';

/**
 * Acknowledged writes survive kill -9 of Kai: a real Kai process takes
 * concurrent catalog writes, is SIGKILLed while some are in flight, and after
 * a restart on the same data dir every write it answered 201 is still there.
 */
const WORKERS = 8;
const KILL_AFTER_ACKS = 100;
/** Upper bound for the write phase, so a stuck Kai cannot hang the run. */
const WRITE_PHASE_MS = 30_000;

interface Written {
  id: string;
  name: string;
  hostPath: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('durability: acknowledged writes survive kill -9 of Kai', () => {
  const id = uniqueId();
  const instance = `test-dur-${id}`;
  const network = `kai-test-dur-${id}`;
  const adminPassword = `pw-${uniqueId()}-${uniqueId()}`;
  let dataDir = '';
  let hostRoot = '';
  let folders: string[] = [];
  const children: ChildProcess[] = [];

  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kai-dur-data-'));
    hostRoot = realpathSync(mkdtempSync(path.join(tmpdir(), 'kai-dur-root-')));
    folders = ['alpha', 'beta', 'gamma/deep', 'delta with space'].map((folder) => {
      mkdirSync(path.join(hostRoot, folder), { recursive: true });
      return path.join(hostRoot, folder);
    });
  });

  /** Kai as a child process on this test's data dir, tracked so after() can kill it. */
  async function startKai(): Promise<RunningKai> {
    const kai = await spawnKai({ dataDir, hostRoot, instance, network, adminPassword });
    children.push(kai.child);
    return kai;
  }

  async function login(kai: RunningKai): Promise<Record<string, string>> {
    const response = await fetch(`${kai.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: adminPassword }),
    });
    const body = (await response.json()) as { data?: { token?: string } };
    assert.equal(response.status, 200, `login failed: ${JSON.stringify(body)}\n${kai.output()}`);
    assert.equal(typeof body.data?.token, 'string');
    return { authorization: `Bearer ${body.data?.token}` };
  }

  after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await removeInstance(instance, network);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (hostRoot) rmSync(hostRoot, { recursive: true, force: true });
  });

  it('keeps every write answered 201 before the SIGKILL, and the database stays usable', { timeout: 180_000 }, async (t) => {
    const first = await startKai();
    const auth = await login(first);

    const acked: Written[] = [];
    const attempted = new Set<string>();
    const unexpected: string[] = [];
    let killed = false;
    let inFlight = 0;
    let inFlightAtKill = 0;

    const kill = () => {
      if (killed) return;
      killed = true;
      inFlightAtKill = inFlight;
      first.child.kill('SIGKILL');
    };

    const worker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const name = `dur-${id}-${w}-${i}`;
        const hostPath = folders[(w + i) % folders.length] as string;
        attempted.add(name);
        inFlight++;
        try {
          const response = await fetch(`${first.url}/api/catalog/flexy`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ name, hostPath }),
            signal: AbortSignal.timeout(10_000),
          });
          const text = await response.text();
          if (response.status === 201) {
            const body = JSON.parse(text) as { data: Written };
            acked.push({ id: body.data.id, name: body.data.name, hostPath: body.data.hostPath });
            if (acked.length >= KILL_AFTER_ACKS) kill();
          } else if (!killed) {
            unexpected.push(`${name}: ${response.status} ${text.slice(0, 300)}`);
            kill();
          }
        } catch (error) {
          // After the kill a lost connection is the expected fate of an in-flight write.
          if (!killed) {
            unexpected.push(`${name}: ${(error as Error).message}`);
            kill();
          }
        } finally {
          inFlight--;
        }
      }
    };

    const bound = setTimeout(kill, WRITE_PHASE_MS);
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    clearTimeout(bound);
    const { signal } = await first.exited;

    assert.deepEqual(unexpected, [], `writes failed before the kill:\n${first.output()}`);
    assert.equal(signal, 'SIGKILL', 'Kai was not the one killed by SIGKILL');
    assert.ok(acked.length >= KILL_AFTER_ACKS, `only ${acked.length} writes were acknowledged before the bound:\n${first.output()}`);
    t.diagnostic(`${acked.length} acknowledged, ${attempted.size} attempted, ${inFlightAtKill} in flight at the kill`);

    // Restart on the same data dir.
    const second = await startKai();
    const auth2 = await login(second);
    const listed = await fetch(`${second.url}/api/catalog/flexy`, { headers: auth2 });
    assert.equal(listed.status, 200, second.output());
    const items = ((await listed.json()) as { data: { items: Written[] } }).data.items;

    const byId = new Map(items.map((item) => [item.id, item]));
    assert.equal(byId.size, items.length, 'an id is listed twice');
    const lost = acked.filter((write) => !byId.has(write.id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes are gone after kill -9`);
    for (const write of acked) {
      const item = byId.get(write.id);
      assert.deepEqual({ id: item?.id, name: item?.name, hostPath: item?.hostPath }, write, `write ${write.id} came back changed`);
    }
    // Unacknowledged in-flight writes may or may not be there, but nothing else may be.
    const strangers = items.filter((item) => !attempted.has(item.name));
    assert.deepEqual(strangers, [], 'items that no one wrote');
    const attemptedFolders = new Set(folders);
    assert.deepEqual(items.filter((item) => !attemptedFolders.has(item.hostPath)), [], 'items with a host path no one sent');

    // The database still takes writes, and they are read back.
    const extra = { name: `after-restart-${id}`, hostPath: folders[0] as string };
    const created = await fetch(`${second.url}/api/catalog/flexy`, {
      method: 'POST',
      headers: { ...auth2, 'content-type': 'application/json' },
      body: JSON.stringify(extra),
    });
    const createdBody = (await created.json()) as { data: Written };
    assert.equal(created.status, 201, JSON.stringify(createdBody));
    const relisted = await fetch(`${second.url}/api/catalog/flexy`, { headers: auth2 });
    const relistedItems = ((await relisted.json()) as { data: { items: Written[] } }).data.items;
    assert.ok(relistedItems.some((item) => item.id === createdBody.data.id && item.name === extra.name), 'the write after the restart is not listed');
    assert.equal(relistedItems.length, items.length + 1);

    // Kill again and check the file itself: intact, and holding exactly what the API listed.
    second.child.kill('SIGKILL');
    await second.exited;
    const db = new Database(path.join(dataDir, DATABASE_FILE));
    try {
      assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
      const rows = db.prepare('SELECT id FROM catalog_items').all() as Array<{ id: string }>;
      assert.deepEqual(rows.map((row) => row.id).sort(), relistedItems.map((item) => item.id).sort());
    } finally {
      db.close();
    }
  });
});
