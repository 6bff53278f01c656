import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EngineProxy } from './support/engine-proxy.js';
import { startKai, type TestKai } from './support/kai.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Every route the core serves; the OpenAPI document must list each one. */
const ROUTES = [
  ['get', '/api/flexy'],
  ['post', '/api/flexy'],
  ['get', '/api/flexy/{id}'],
  ['delete', '/api/flexy/{id}'],
  ['post', '/api/flexy/{id}/start'],
  ['post', '/api/flexy/{id}/stop'],
  ['post', '/api/flexy/{id}/restart'],
  ['get', '/api/catalog/flexy'],
  ['post', '/api/catalog/flexy'],
  ['delete', '/api/catalog/flexy/{id}'],
  ['post', '/api/catalog/flexy/{id}/launch'],
  ['post', '/api/host/directories'],
  ['get', '/api/health'],
  ['get', '/api/ready'],
] as const;

describe('System routes on a working engine', () => {
  let kai: TestKai;
  before(async () => {
    kai = await startKai();
  });
  after(async () => kai.close());

  it('reports healthy with every service checked', async () => {
    const response = await kai.request('GET', '/api/health');
    assert.equal(response.status, 200);
    assert.equal(response.body.success, true);
    assert.equal(response.body.message, 'Health check passed');
    assert.equal(response.body.data.status, 'healthy');
    assert.match(response.body.data.timestamp, ISO);
    assert.match(response.body.timestamp, ISO);
    assert.deepEqual(response.body.data.services, { api: 'healthy', docker: 'healthy', database: 'healthy' });
  });

  it('reports ready', async () => {
    const response = await kai.request('GET', '/api/ready');
    assert.equal(response.status, 200);
    assert.equal(response.body.data.ready, true);
    assert.equal(response.body.message, 'System is ready');
  });

  it('reports the database as unhealthy when it fails', async () => {
    const broken = await startKai();
    try {
      broken.db.close();
      const response = await broken.request('GET', '/api/health');
      assert.equal(response.status, 503);
      assert.equal(response.body.success, false);
      assert.match(response.body.error.message, /database/);
      assert.deepEqual(response.body.error.details.services, { api: 'healthy', docker: 'healthy', database: 'unhealthy' });
    } finally {
      await broken.app.close();
      await broken.close().catch(() => undefined);
    }
  });

  it('answers unknown routes with a 404 NOT_FOUND envelope', async () => {
    for (const [method, route] of [['GET', '/api/nope'], ['PUT', '/api/flexy'], ['GET', '/nothing']] as const) {
      const response = await kai.request(method, route);
      assert.equal(response.status, 404);
      assert.deepEqual(Object.keys(response.body).sort(), ['error', 'success', 'timestamp']);
      assert.equal(response.body.error.code, 'NOT_FOUND');
    }
  });

  it('serves an OpenAPI 3 document listing every route with the envelope shapes', async () => {
    const response = await kai.request('GET', '/openapi.json');
    assert.equal(response.status, 200);
    const doc = response.body;
    assert.match(doc.openapi, /^3\./);
    for (const [method, route] of ROUTES) {
      const operation = doc.paths?.[route]?.[method];
      assert.ok(operation, `${method.toUpperCase()} ${route} missing from /openapi.json`);
      const success = operation.responses['200'] ?? operation.responses['201'];
      const successSchema = success.content['application/json'].schema;
      assert.deepEqual(Object.keys(successSchema.properties).sort(), ['data', 'message', 'success', 'timestamp']);
      for (const errorStatus of ['4XX', '5XX']) {
        const errorSchema = operation.responses[errorStatus].content['application/json'].schema;
        assert.deepEqual(Object.keys(errorSchema.properties).sort(), ['error', 'success', 'timestamp']);
        assert.ok(errorSchema.properties.error.properties.code.enum.includes('DOCKER_ERROR'));
      }
    }
    const createBody = doc.paths['/api/flexy'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(createBody.required, ['name']);
    assert.equal(createBody.additionalProperties, false);
    assert.ok(doc.paths['/api/flexy'].get.parameters.some((p: { name: string; in: string }) => p.name === 'status' && p.in === 'query'));
  });
});

describe('When the Docker engine is unreachable', () => {
  const proxy = new EngineProxy();
  let kai: TestKai;

  before(async () => {
    await proxy.set('down');
    kai = await startKai({ DOCKER_HOST: proxy.dockerHost });
    mkdirSync(path.join(kai.hostRoot, 'project'));
  });
  after(async () => {
    await proxy.set('up'); // so close() can clean up through the same engine
    await kai.close();
    await proxy.stop();
  });

  const containerCalls = () => [
    kai.request('GET', '/api/flexy'),
    kai.request('POST', '/api/flexy', { name: `${kai.prefix}-down` }),
    kai.request('GET', '/api/flexy/anything'),
    kai.request('POST', '/api/flexy/anything/start'),
    kai.request('POST', '/api/flexy/anything/stop'),
    kai.request('POST', '/api/flexy/anything/restart'),
    kai.request('DELETE', '/api/flexy/anything'),
  ];

  it('container routes answer 503 DOCKER_ERROR saying what to check', async () => {
    for (const response of await Promise.all(containerCalls())) {
      assert.equal(response.status, 503, JSON.stringify(response.body));
      assert.equal(response.body.error.code, 'DOCKER_ERROR');
      assert.match(response.body.error.message, /dockerd/);
      assert.match(response.body.error.message, /DOCKER_HOST/);
      assert.doesNotMatch(JSON.stringify(response.body), /\n\s+at /);
    }
  });

  it('health and ready say the engine is down; catalog and host browsing keep working', async () => {
    const health = await kai.request('GET', '/api/health');
    assert.equal(health.status, 503);
    assert.equal(health.body.error.code, 'DOCKER_ERROR');
    assert.deepEqual(health.body.error.details.services, { api: 'healthy', docker: 'unhealthy', database: 'healthy' });
    assert.equal(health.body.error.details.status, 'unhealthy');

    const ready = await kai.request('GET', '/api/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.error.details.ready, false);

    const added = await kai.request('POST', '/api/catalog/flexy', { name: 'offline', hostPath: path.join(kai.hostRoot, 'project') });
    assert.equal(added.status, 201);
    assert.equal((await kai.request('GET', '/api/catalog/flexy')).body.data.items.length, 1);
    assert.equal((await kai.request('POST', '/api/host/directories')).status, 200);

    const launch = await kai.request('POST', `/api/catalog/flexy/${added.body.data.id}/launch`);
    assert.equal(launch.status, 503);
  });

  it('an engine that accepts but never answers also gives 503 instead of a hang', async () => {
    await proxy.set('hang');
    try {
      const response = await kai.request('GET', '/api/flexy');
      assert.equal(response.status, 503);
      assert.equal(response.body.error.code, 'DOCKER_ERROR');
      assert.match(response.body.error.message, /no answer in time/);
    } finally {
      await proxy.set('down');
    }
  });

  it('everything works again once the engine is back, without restarting Kai', async () => {
    await proxy.set('up');
    const health = await kai.request('GET', '/api/health');
    assert.equal(health.status, 200);
    const created = await kai.request('POST', '/api/flexy', { name: `${kai.prefix}-back`, hostPath: path.join(kai.hostRoot, 'project'), start: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.status, 'running');
    const list = await kai.request('GET', '/api/flexy');
    assert.equal(list.body.data.total, 1);
  });
});
