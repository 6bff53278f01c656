import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startKai, type TestKai } from './support/kai.js';

describe('Host directories', () => {
  let kai: TestKai;
  let root: string;

  before(async () => {
    kai = await startKai();
    root = kai.hostRoot;
    mkdirSync(path.join(root, 'projects', 'beta'), { recursive: true });
    mkdirSync(path.join(root, 'projects', 'alpha'));
    writeFileSync(path.join(root, 'projects', 'README.md'), 'hello');
    writeFileSync(path.join(root, 'projects', 'a.txt'), '12345678');
    symlinkSync('/etc', path.join(root, 'projects', 'link-out'));
    symlinkSync(path.join(root, 'projects', 'alpha'), path.join(root, 'projects', 'link-in'));
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'projects', 'broken'));
  });
  after(async () => kai.close());

  const list = (body?: unknown) => kai.request('POST', '/api/host/directories', body);

  it('lists KAI_HOST_ROOT when no path is given, with parent null', async () => {
    for (const response of [await list(), await list({})]) {
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.message, 'Directory listing retrieved successfully');
      assert.equal(response.body.data.path, root);
      assert.equal(response.body.data.parent, null);
      assert.deepEqual(response.body.data.directories.map((d: { name: string }) => d.name), ['projects']);
    }
  });

  it('lists folders and files sorted by name, follows links that stay inside, skips the rest', async () => {
    const response = await list({ currentPath: path.join(root, 'projects') });
    assert.equal(response.status, 200);
    const data = response.body.data;
    assert.equal(data.parent, root);
    assert.deepEqual(data.directories.map((d: { name: string }) => d.name), ['alpha', 'beta', 'link-in']);
    assert.deepEqual(data.files.map((f: { name: string; size: number }) => [f.name, f.size]), [['README.md', 5], ['a.txt', 8]]);
    const alpha = data.directories[0];
    assert.equal(alpha.path, path.join(root, 'projects', 'alpha'));
    assert.ok(!Number.isNaN(Date.parse(alpha.modified)));
  });

  it('refuses paths that leave the root with 403', async () => {
    const sibling = `${root}x`;
    mkdirSync(sibling, { recursive: true });
    try {
      for (const currentPath of [
        '/',
        '/etc',
        `${root}/..`,
        `${root}/projects/../../`,
        path.join(root, 'projects', 'link-out'),
        sibling,
        `${root}x/`,
      ]) {
        const response = await list({ currentPath });
        assert.equal(response.status, 403, `${currentPath}: ${JSON.stringify(response.body)}`);
        assert.equal(response.body.error.code, 'PERMISSION_DENIED');
        assert.ok(!('directories' in (response.body.data ?? {})));
      }
    } finally {
      // kai.close() removes the root, not its sibling
      (await import('node:fs')).rmSync(sibling, { recursive: true, force: true });
    }
  });

  it('answers 400 for malformed paths, 404 for missing ones and 400 for files', async () => {
    const bad: Array<[unknown, number, string]> = [
      [{ currentPath: 'relative/path' }, 400, 'VALIDATION_ERROR'],
      [{ currentPath: `${root}/projects\u0000/etc` }, 400, 'VALIDATION_ERROR'],
      [{ currentPath: '' }, 400, 'VALIDATION_ERROR'],
      [{ currentPath: 42 }, 400, 'VALIDATION_ERROR'],
      [{ currentPath: root, other: true }, 400, 'VALIDATION_ERROR'],
      [{ currentPath: `${root}/%2e%2e/%2e%2e/etc` }, 404, 'NOT_FOUND'],
      [{ currentPath: path.join(root, 'nope') }, 404, 'NOT_FOUND'],
      [{ currentPath: path.join(root, 'projects', 'broken') }, 404, 'NOT_FOUND'],
      [{ currentPath: path.join(root, 'projects', 'a.txt') }, 400, 'VALIDATION_ERROR'],
      ['[1,2]', 400, 'VALIDATION_ERROR'],
    ];
    for (const [body, status, code] of bad) {
      const response = await list(body);
      assert.equal(response.status, status, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, code);
      assert.equal(response.body.error.details.fields[0].field.startsWith('body'), true);
    }
  });

  it('lists a folder of 10,000 entries completely', async () => {
    const big = path.join(root, 'big');
    mkdirSync(big);
    for (let i = 0; i < 10_000; i++) writeFileSync(path.join(big, `f${String(i).padStart(5, '0')}`), '');
    const response = await list({ currentPath: big });
    assert.equal(response.status, 200);
    assert.equal(response.body.data.files.length, 10_000);
    assert.equal(response.body.data.files[0].name, 'f00000');
    assert.equal(response.body.data.files[9_999].name, 'f09999');
  });
});
