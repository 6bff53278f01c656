import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterView, SwarmNode, SwarmService, SwarmTask, TaskState } from '../../src/runtime/swarm/engine-types.js';
import { diff, type Observed } from '../../src/runtime/swarm/events.js';
import { LABEL_STARTED, sandboxState } from '../../src/runtime/swarm/state.js';
import type { FlexyStatus } from '../../src/runtime/types.js';

// Engine documents shaped as the manager returns them; the real round trip is in test/swarm.test.ts.
function service(replicas: number, labels: Record<string, string> = {}, updatedAt = '2026-11-28T10:00:00Z'): SwarmService {
  return {
    ID: 'svc1',
    Version: { Index: 10 },
    CreatedAt: '2026-11-28T09:00:00Z',
    UpdatedAt: updatedAt,
    Spec: {
      Name: 'box',
      Labels: { 'kai.managed': 'true', 'kai.instance': 'x', ...labels },
      TaskTemplate: { ContainerSpec: { Image: 'img:1@sha256:abc' } },
      Mode: { Replicated: { Replicas: replicas } },
    },
  };
}

let sequence = 0;
function task(state: TaskState, node = 'n2', extra: Partial<SwarmTask['Status']> = {}, createdAt?: string): SwarmTask {
  sequence++;
  return {
    ID: `task${sequence}`,
    ServiceID: 'svc1',
    NodeID: node,
    Version: { Index: sequence },
    CreatedAt: createdAt ?? new Date(Date.parse('2026-11-28T10:00:01Z') + sequence * 1000).toISOString(),
    UpdatedAt: '2026-11-28T10:00:00Z',
    DesiredState: 'running',
    Status: { State: state, ...extra },
  };
}

function node(id: string, state = 'ready'): SwarmNode {
  return { ID: id, Description: { Hostname: `host-${id}` }, Spec: { Role: 'worker', Availability: 'active' }, Status: { State: state, Addr: '10.0.0.2' } };
}

function view(svc: SwarmService, tasks: SwarmTask[], nodes: SwarmNode[] = [node('n2')]): ClusterView {
  return { services: [svc], tasksByService: new Map([[svc.ID, tasks]]), nodes: new Map(nodes.map((item) => [item.ID, item])) };
}

describe('Swarm sandbox status', () => {
  it('tells created from stopped by the started label when no task is left', () => {
    assert.equal(sandboxState(service(0), view(service(0), [])).status, 'created');
    const stopped = service(0, { [LABEL_STARTED]: 'true' });
    assert.equal(sandboxState(stopped, view(stopped, [])).status, 'stopped');
  });

  it('is running only while the task runs on a ready node, and says which node is down otherwise', () => {
    const svc = service(1);
    assert.equal(sandboxState(svc, view(svc, [task('running')])).status, 'running');
    const down = sandboxState(svc, view(svc, [task('running')], [node('n2', 'down')]));
    assert.equal(down.status, 'error');
    assert.equal(down.reason, 'node host-n2 is down');
    // The replacement waits for the pinned node; the stranded task explains why.
    const stranded = sandboxState(svc, view(svc, [task('running'), task('pending', '', { Err: 'no suitable node' })], [node('n2', 'down')]));
    assert.equal(stranded.status, 'error');
    assert.match(stranded.reason ?? '', /host-n2 is down/);
  });

  it('names the node when the image is missing there, also while the engine retries', () => {
    const svc = service(1);
    const rejected = task('rejected', 'n2', { Err: 'No such image: img:1' });
    const failed = sandboxState(svc, view(svc, [rejected]));
    assert.equal(failed.status, 'error');
    assert.equal(failed.reason, 'image "img:1" is not on node host-n2; load it there (scripts/swarm-load-image.sh)');
    const retrying = sandboxState(svc, view(svc, [rejected, task('preparing')]));
    assert.equal(retrying.status, 'error');
  });

  it('does not blame a new start on a failure from before the last change', () => {
    const old = task('failed', 'n2', { Err: 'boom' }, '2026-11-28T09:30:00Z');
    const svc = service(1, {}, '2026-11-28T10:00:00Z');
    assert.equal(sandboxState(svc, view(svc, [old, task('starting')])).status, 'starting');
  });

  it('reports an exited process awaiting its restart as restarting', () => {
    const svc = service(1);
    assert.equal(sandboxState(svc, view(svc, [task('complete')])).status, 'restarting');
  });
});

function observed(status: FlexyStatus, taskId: string | null = 't1'): Observed {
  return {
    summary: { id: 'svc1', name: 'box', status, image: 'img', createdAt: '2026-11-28T10:00:00.000Z', hostPath: null, containerPath: null, ports: [] },
    taskId,
    exitCode: status === 'error' ? 137 : null,
  };
}

const step = (from: Observed | null, to: Observed | null, replacing = new Set<string>()) =>
  diff(new Map(from ? [['svc1', from]] : []), new Map(to ? [['svc1', to]] : []), 1, replacing).map((event) => `${event.action}:${event.container.status}`);

describe('Swarm snapshots to engine events', () => {
  it('reports create, start, stop and destroy', () => {
    assert.deepEqual(step(null, observed('created')), ['create:created']);
    assert.deepEqual(step(null, observed('running')), ['create:created', 'start:running']);
    assert.deepEqual(step(observed('starting'), observed('running')), ['start:running']);
    assert.deepEqual(step(observed('running'), observed('stopped')), ['stop:stopped']);
    assert.deepEqual(step(observed('stopped'), null), ['destroy:removing']);
    assert.deepEqual(step(observed('created'), observed('starting')), []);
  });

  it('reports a lost node as a died sandbox in error, and its return as a start', () => {
    assert.deepEqual(step(observed('running'), observed('error')), ['die:error']);
    assert.deepEqual(step(observed('error'), observed('running', 't2')), ['start:running']);
  });

  it('reports a replaced task as one restart, directly or through starting', () => {
    assert.deepEqual(step(observed('running', 't1'), observed('running', 't2')), ['restart:running']);
    const replacing = new Set<string>();
    assert.deepEqual(step(observed('running', 't1'), observed('starting', 't2'), replacing), []);
    assert.deepEqual(step(observed('starting', 't2'), observed('running', 't2'), replacing), ['restart:running']);
    assert.equal(replacing.size, 0);
  });
});
