import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, it } from 'node:test';
import type { TestKai } from './kai.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function assertError(response: { status: number; body: any }, status: number, code: string) {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.success, false);
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
  assert.equal(typeof response.body.timestamp, 'string');
}

/** What the shared container-API tests need to know about the engine under Kai, checked directly, as an operator would. */
export interface EngineUnderTest {
  /** The Kai the tests talk to (started by the caller's before hook). */
  kai(): TestKai;
  /** Another Kai on the same engine with its own instance, for tests that need an empty list. */
  startAnother(): Promise<TestKai>;
  /** How many engine objects (containers, services) have exactly this name. */
  count(name: string): Promise<number>;
  /** The host folder the engine mounts for this sandbox. */
  mountSource(name: string): Promise<string | undefined>;
  /** Whether a stopped sandbox still reports its exit code and end time (Swarm drops tasks scaled away). */
  keepsExitCode: boolean;
}

/**
 * The container API's behaviour that does not depend on the runtime: run
 * inside a describe() against KAI_RUNTIME=docker (test/flexy.test.ts) and
 * KAI_RUNTIME=swarm (test/swarm.test.ts).
 */
export function containerApiTests(engine: EngineUnderTest): void {
  let kai: TestKai;
  let project: string;

  before(() => {
    kai = engine.kai();
    project = path.join(kai.hostRoot, 'api-project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'keep.txt'), 'do not delete');
  });

    it('finds a container by id, unique id prefix and name', async () => {
      const name = `${kai.prefix}-lookup`;
      const created = await kai.request('POST', '/api/flexy', { name });
      const id: string = created.body.data.id;
      for (const ref of [id, id.slice(0, 12), name]) {
        const response = await kai.request('GET', `/api/flexy/${ref}`);
        assert.equal(response.status, 200, ref);
        assert.equal(response.body.data.id, id);
      }
    });


    it('answers 404 CONTAINER_NOT_FOUND for unknown ids on every container route', async () => {
      const missing = `${kai.prefix}-missing`;
      assertError(await kai.request('GET', `/api/flexy/${missing}`), 404, 'CONTAINER_NOT_FOUND');
      assertError(await kai.request('DELETE', `/api/flexy/${missing}`), 404, 'CONTAINER_NOT_FOUND');
      for (const action of ['start', 'stop', 'restart']) {
        assertError(await kai.request('POST', `/api/flexy/${missing}/${action}`), 404, 'CONTAINER_NOT_FOUND');
      }
    });


    it('gives exactly one 201 for twenty concurrent creates of one name', async () => {
      const name = `${kai.prefix}-race`;
      const responses = await Promise.all(Array.from({ length: 20 }, () => kai.request('POST', '/api/flexy', { name })));
      const statuses = responses.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(','));
      for (const response of responses.filter((r) => r.status !== 201)) assertError(response, 409, 'CONFLICT');
      assert.equal(await engine.count(name), 1);
    });


    it('rejects a duplicate name with 409', async () => {
      const name = `${kai.prefix}-dup`;
      assert.equal((await kai.request('POST', '/api/flexy', { name })).status, 201);
      assertError(await kai.request('POST', '/api/flexy', { name }), 409, 'CONFLICT');
    });


    it('starts, stops and restarts idempotently with the reference bodies', async () => {
      const name = `${kai.prefix}-cycle`;
      const id = (await kai.request('POST', '/api/flexy', { name })).body.data.id;
      const expect = async (action: string, status: string, message: string, after: string) => {
        const response = await kai.request('POST', `/api/flexy/${name}/${action}`);
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.deepEqual(response.body.data, { id, status });
        assert.equal(response.body.message, message);
        assert.equal((await kai.request('GET', `/api/flexy/${id}`)).body.data.status, after);
      };
      await expect('start', 'starting', 'Container start request submitted', 'running');
      await expect('start', 'starting', 'Container start request submitted', 'running');
      await expect('restart', 'restarting', 'Container restart request submitted', 'running');
      await expect('stop', 'stopping', 'Container stop request submitted', 'stopped');
      await expect('stop', 'stopping', 'Container stop request submitted', 'stopped');
      if (engine.keepsExitCode) {
        const stopped = (await kai.request('GET', `/api/flexy/${id}`)).body.data;
        assert.equal(typeof stopped.exitCode, 'number');
        assert.ok(stopped.finishedAt);
      }
    });


    it('deletes a running container and leaves the host folder alone', async () => {
      const name = `${kai.prefix}-delete`;
      const created = await kai.request('POST', '/api/flexy', { name, hostPath: project, start: true });
      const response = await kai.request('DELETE', `/api/flexy/${name}`);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body.data, { id: created.body.data.id });
      assert.equal(response.body.message, 'Container deleted successfully');
      assert.equal(await engine.count(name), 0);
      assert.deepEqual(readdirSync(project), ['keep.txt']);
      assertError(await kai.request('DELETE', `/api/flexy/${name}`), 404, 'CONTAINER_NOT_FOUND');
    });


    it('lists newest first with status filter, paging and total after filtering', async () => {
      const listKai = await engine.startAnother();
      try {
        const names = Array.from({ length: 5 }, (_, i) => `${listKai.prefix}-l${i}`);
        for (const name of names) {
          assert.equal((await listKai.request('POST', '/api/flexy', { name })).status, 201);
          // Docker's created times have nanosecond resolution; a pause keeps the order unambiguous.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await listKai.request('POST', `/api/flexy/${names[1]}/start`);
        await listKai.request('POST', `/api/flexy/${names[3]}/start`);

        const all = await listKai.request('GET', '/api/flexy');
        assert.equal(all.status, 200);
        assert.equal(all.body.message, 'Containers retrieved successfully');
        assert.equal(all.body.data.total, 5);
        assert.equal(all.body.data.limit, 10);
        assert.equal(all.body.data.offset, 0);
        assert.deepEqual(all.body.data.containers.map((c: { name: string }) => c.name), [...names].reverse());

        const page = await listKai.request('GET', '/api/flexy?limit=2&offset=1');
        assert.deepEqual(page.body.data.containers.map((c: { name: string }) => c.name), [names[3], names[2]]);
        assert.equal(page.body.data.total, 5);

        const running = await listKai.request('GET', '/api/flexy?status=running');
        assert.deepEqual(running.body.data.containers.map((c: { name: string }) => c.name), [names[3], names[1]]);
        assert.equal(running.body.data.total, 2);

        const created = await listKai.request('GET', '/api/flexy?status=created');
        assert.equal(created.body.data.total, 3);
        assert.equal((await listKai.request('GET', '/api/flexy?status=paused')).body.data.total, 0);

        await listKai.request('POST', `/api/flexy/${names[3]}/stop`);
        const stopped = await listKai.request('GET', '/api/flexy?status=stopped');
        assert.deepEqual(stopped.body.data.containers.map((c: { name: string; status: string }) => [c.name, c.status]), [[names[3], 'stopped']]);

        const beyond = await listKai.request('GET', '/api/flexy?offset=50');
        assert.deepEqual(beyond.body.data.containers, []);
        assert.equal(beyond.body.data.total, 5);
      } finally {
        await listKai.close();
      }
    });


    it('rejects bad list queries with 400 naming the field', async () => {
      const cases: Array<[string, string]> = [
        ['status=error', 'query.status'],
        ['status=bogus', 'query.status'],
        ['limit=0', 'query.limit'],
        ['limit=101', 'query.limit'],
        ['limit=abc', 'query.limit'],
        ['limit=1.5', 'query.limit'],
        ['limit=0x10', 'query.limit'],
        ['limit=1e1', 'query.limit'],
        ['offset=%20', 'query.offset'],
        ['offset=-1', 'query.offset'],
        ['sort=name', 'query.sort'],
      ];
      for (const [query, field] of cases) {
        const response = await kai.request('GET', `/api/flexy?${query}`);
        assertError(response, 400, 'VALIDATION_ERROR');
        assert.ok(
          response.body.error.details.fields.some((f: { field: string }) => f.field === field),
          `${query}: ${JSON.stringify(response.body.error.details)}`,
        );
      }
    });


    it('validates the create body and names the field', async () => {
      const cases: Array<[unknown, string]> = [
        [{}, 'body.name'],
        [{ name: '' }, 'body.name'],
        [{ name: 'a' }, 'body.name'],
        [{ name: 'x'.repeat(65) }, 'body.name'],
        [{ name: 'bad name' }, 'body.name'],
        [{ name: '-leading' }, 'body.name'],
        [{ name: 42 }, 'body.name'],
        [{ name: `${kai.prefix}-v`, env: { '1BAD': 'x' } }, 'body.env.1BAD'],
        [{ name: `${kai.prefix}-v`, env: { 'A-B': 'x' } }, 'body.env.A-B'],
        [{ name: `${kai.prefix}-v`, env: { OK: 5 } }, 'body.env.OK'],
        [{ name: `${kai.prefix}-v`, env: ['A=B'] }, 'body.env'],
        [{ name: `${kai.prefix}-v`, hostPath: 'relative/path' }, 'body.hostPath'],
        [{ name: `${kai.prefix}-v`, containerPath: 'workspace' }, 'body.containerPath'],
        [{ name: `${kai.prefix}-v`, containerPath: '/' }, 'body.containerPath'],
        [{ name: `${kai.prefix}-v`, containerPath: '/a/../etc' }, 'body.containerPath'],
        [{ name: `${kai.prefix}-v`, image: 'Bad Image!' }, 'body.image'],
        [{ name: `${kai.prefix}-v`, start: 'yes' }, 'body.start'],
        [{ name: `${kai.prefix}-v`, privileged: true }, 'body.privileged'],
        [{ name: `${kai.prefix}-v`, hostPath: path.join(kai.hostRoot, 'nope') }, 'body.hostPath'],
      ];
      for (const [body, field] of cases) {
        const response = await kai.request('POST', '/api/flexy', body);
        assertError(response, 400, 'VALIDATION_ERROR');
        assert.ok(
          response.body.error.details.fields.some((f: { field: string }) => f.field === field),
          `${JSON.stringify(body)}: ${JSON.stringify(response.body.error)}`,
        );
      }
      assert.equal(await engine.count(`${kai.prefix}-v`), 0, 'no invalid create may leave a container');
    });


    it('confines hostPath to KAI_HOST_ROOT: traversal, symlinks out and prefix collisions are 403', async (t) => {
      const sibling = `${kai.hostRoot}-sibling`; // /tmp/kai-root-X-sibling shares the root's prefix
      mkdirSync(sibling, { recursive: true });
      t.after(() => rmSync(sibling, { recursive: true, force: true })); // kai.close() removes only the root
      symlinkSync('/etc', path.join(kai.hostRoot, 'link-out'));
      symlinkSync(project, path.join(kai.hostRoot, 'link-in'));
      writeFileSync(path.join(kai.hostRoot, 'a-file'), 'x');
      const denied = ['/etc', `${kai.hostRoot}/../`, `${project}/../../etc`, path.join(kai.hostRoot, 'link-out'), sibling];
      for (const hostPath of denied) {
        const response = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-esc`, hostPath });
        assertError(response, 403, 'PERMISSION_DENIED');
        assert.ok(!JSON.stringify(response.body).includes('/etc/passwd'));
      }
      assertError(await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-esc`, hostPath: path.join(kai.hostRoot, 'a-file') }), 400, 'VALIDATION_ERROR');
      assertError(await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-esc`, hostPath: `${project}\u0000/x` }), 400, 'VALIDATION_ERROR');

      // A link that stays inside is followed, and the real folder is what gets mounted.
      const viaLink = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-link`, hostPath: path.join(kai.hostRoot, 'link-in') });
      assert.equal(viaLink.status, 201, JSON.stringify(viaLink.body));
      assert.equal(viaLink.body.data.hostPath, project);
      assert.equal(await engine.mountSource(`${kai.prefix}-link`), project);
    });
}
