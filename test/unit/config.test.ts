import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 9900);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.imageName, 'flexy-dev-sandbox:latest');
    assert.equal(config.dockerNetwork, 'kai-net');
    assert.deepEqual(config.docker, { kind: 'socket', socketPath: '/var/run/docker.sock', label: 'unix:///var/run/docker.sock' });
    assert.equal(config.dataDir, path.join(homedir(), '.kai'));
    assert.equal(config.hostRoot, realpathSync(homedir()));
    assert.equal(config.pullPolicy, 'missing');
    assert.equal(config.instance, 'default');
    assert.deepEqual(config.runtime, { kind: 'docker', nodeEngines: {}, nodeAddresses: {} });
  });

  it('reads the Swarm runtime settings: node engines and addresses by hostname or id', () => {
    const config = loadConfig({
      KAI_RUNTIME: 'swarm',
      KAI_SWARM_NODE_ENGINES: 'node-1=unix:///run/n1.sock, k1g6ezns89fipkjpr03lkkxor=tcp://10.0.0.2:2375',
      KAI_SWARM_NODE_ADDRESSES: 'node-1=192.168.1.10',
    });
    assert.equal(config.runtime.kind, 'swarm');
    assert.deepEqual(config.runtime.nodeEngines, {
      'node-1': { kind: 'socket', socketPath: '/run/n1.sock', label: 'unix:///run/n1.sock' },
      k1g6ezns89fipkjpr03lkkxor: { kind: 'tcp', protocol: 'http', host: '10.0.0.2', port: 2375, label: 'tcp://10.0.0.2:2375' },
    });
    assert.deepEqual(config.runtime.nodeAddresses, { 'node-1': '192.168.1.10' });
  });

  it('reads every variable', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'kai-config-'));
    try {
      const config = loadConfig({
        PORT: '1234',
        HOST: '0.0.0.0',
        IMAGE_NAME: 'registry.local:5000/flexy:1',
        DOCKER_NETWORK: 'other-net',
        DOCKER_HOST: 'tcp://127.0.0.1:2375',
        KAI_DATA_DIR: '/var/lib/kai',
        KAI_HOST_ROOT: root,
        KAI_PULL_POLICY: 'never',
      });
      assert.equal(config.port, 1234);
      assert.equal(config.host, '0.0.0.0');
      assert.equal(config.imageName, 'registry.local:5000/flexy:1');
      assert.equal(config.dockerNetwork, 'other-net');
      assert.deepEqual(config.docker, { kind: 'tcp', protocol: 'http', host: '127.0.0.1', port: 2375, label: 'tcp://127.0.0.1:2375' });
      assert.equal(config.dataDir, '/var/lib/kai');
      assert.equal(config.hostRoot, realpathSync(root));
      assert.equal(config.pullPolicy, 'never');
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  it('stops with a message naming the variable for each bad value', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'kai-config-')), 'file');
    writeFileSync(file, '');
    const bad: Array<[Record<string, string>, string]> = [
      [{ PORT: 'abc' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ KAI_PULL_POLICY: 'always' }, 'KAI_PULL_POLICY'],
      [{ DOCKER_HOST: 'ftp://x' }, 'DOCKER_HOST'],
      [{ DOCKER_NETWORK: 'bad net' }, 'DOCKER_NETWORK'],
      [{ IMAGE_NAME: 'bad image' }, 'IMAGE_NAME'],
      [{ KAI_HOST_ROOT: 'relative' }, 'KAI_HOST_ROOT'],
      [{ KAI_HOST_ROOT: '/does/not/exist' }, 'KAI_HOST_ROOT'],
      [{ KAI_HOST_ROOT: file }, 'KAI_HOST_ROOT'],
      [{ KAI_LOG_LEVEL: 'loud' }, 'KAI_LOG_LEVEL'],
      [{ KAI_RUNTIME: 'kubernetes' }, 'KAI_RUNTIME'],
      [{ KAI_SWARM_NODE_ENGINES: 'node-1' }, 'KAI_SWARM_NODE_ENGINES'],
      [{ KAI_SWARM_NODE_ENGINES: 'node-1=ftp://x' }, 'KAI_SWARM_NODE_ENGINES'],
      [{ KAI_SWARM_NODE_ENGINES: 'node-1=not a url' }, 'KAI_SWARM_NODE_ENGINES'],
      [{ KAI_SWARM_NODE_ADDRESSES: '=10.0.0.1' }, 'KAI_SWARM_NODE_ADDRESSES'],
    ];
    for (const [env, variable] of bad) {
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => error instanceof ConfigError && error.message.includes(variable),
        JSON.stringify(env),
      );
    }
  });
});
