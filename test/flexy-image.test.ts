import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dockerCli } from './support/docker.js';
import { FLEXY_IMAGE, startKai, type TestKai } from './support/kai.js';

async function waitForHttp(url: string): Promise<Response> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return await fetch(url);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw lastError;
}

describe('The real Flexy image', () => {
  let kai: TestKai;
  let project: string;

  before(async () => {
    kai = await startKai({ IMAGE_NAME: FLEXY_IMAGE });
    project = path.join(kai.hostRoot, 'my-project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'hello.txt'), 'from the host');
  });
  after(async () => kai.close());

  it('runs ttyd on the loopback-published port as user flexy with the project at /workspace', async () => {
    const name = `${kai.prefix}-flexy`;
    const created = await kai.request('POST', '/api/flexy', { name, hostPath: project, env: { AGENT: 'claude' }, start: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.image, FLEXY_IMAGE);

    const details = (await kai.request('GET', `/api/flexy/${name}`)).body.data;
    const port = details.ports.find((p: { containerPort: number }) => p.containerPort === 9681);
    assert.equal(port.hostIp, '127.0.0.1');
    const page = await waitForHttp(`http://127.0.0.1:${port.hostPort}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /ttyd|xterm/i);

    assert.equal(await dockerCli('exec', name, 'id', '-un'), 'flexy');
    assert.equal(await dockerCli('exec', name, 'pwd'), '/workspace');
    assert.equal(await dockerCli('exec', name, 'cat', '/workspace/hello.txt'), 'from the host');
    assert.equal(await dockerCli('exec', name, 'printenv', 'AGENT'), 'claude');
    for (const tool of ['git', 'tmux', 'curl', 'bash']) {
      assert.match(await dockerCli('exec', name, 'sh', '-c', `command -v ${tool}`), new RegExp(tool));
    }
  });
});
