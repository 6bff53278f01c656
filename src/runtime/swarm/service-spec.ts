import { LABEL_CONTAINER_PATH, LABEL_ENV_KEYS, LABEL_HOST_PATH, LABEL_INSTANCE, LABEL_MANAGED } from '../docker/labels.js';
import type { FlexyCreateSpec } from '../types.js';
import type { SwarmNode, SwarmServiceSpec } from './engine-types.js';
import { LABEL_NODE, LABEL_STARTED, hostnameOf } from './state.js';

const NANOSECONDS = 1e9;
const STOP_GRACE_SECONDS = 10;

export interface SpecOptions {
  instance: string;
  network: string;
  ports: number[];
}

/**
 * A sandbox as a one-replica service, created with zero replicas (Kai's
 * `created`). Ports are published in host mode: on the node that runs the
 * task, where Kai proxies to; the ingress mesh would publish on every node.
 */
export function serviceSpec(spec: FlexyCreateSpec, pinned: SwarmNode | null, options: SpecOptions): SwarmServiceSpec {
  const labels: Record<string, string> = {
    [LABEL_MANAGED]: 'true',
    [LABEL_INSTANCE]: options.instance,
    [LABEL_CONTAINER_PATH]: spec.containerPath,
    [LABEL_ENV_KEYS]: Object.keys(spec.env).join(','),
  };
  if (spec.hostPath) labels[LABEL_HOST_PATH] = spec.hostPath;
  if (pinned) labels[LABEL_NODE] = hostnameOf(pinned);
  return {
    Name: spec.name,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
        // The task's containers carry Kai's labels too, so a node's own engine can tell them apart.
        Labels: { [LABEL_MANAGED]: 'true', [LABEL_INSTANCE]: options.instance, [LABEL_CONTAINER_PATH]: spec.containerPath },
        ...(spec.hostPath ? { Dir: spec.containerPath } : {}),
        // A bind mount of a folder that is missing on the node fails the task (it is never created).
        Mounts: spec.hostPath ? [{ Type: 'bind', Source: spec.hostPath, Target: spec.containerPath, ReadOnly: false }] : [],
        Init: true,
        StopGracePeriod: STOP_GRACE_SECONDS * NANOSECONDS,
      },
      RestartPolicy: { Condition: 'any', Delay: 5 * NANOSECONDS, MaxAttempts: 0 },
      Placement: { Constraints: pinned ? [`node.id==${pinned.ID}`] : [] },
      Networks: [{ Target: options.network }],
      ForceUpdate: 0,
    },
    Mode: { Replicated: { Replicas: 0 } },
    // dnsrr: no virtual IP per service. A VIP is held even at zero replicas, and a /24 overlay runs out after ~250 sandboxes.
    EndpointSpec: { Mode: 'dnsrr', Ports: options.ports.map((port) => ({ Protocol: 'tcp', TargetPort: port, PublishMode: 'host' })) },
  };
}

/** The spec with `replicas` and, for a restart, one more forced update (a new task even with nothing else changed). */
export function scaled(spec: SwarmServiceSpec, replicas: number, forceNewTask = false): SwarmServiceSpec {
  const labels = { ...spec.Labels };
  if (replicas > 0) labels[LABEL_STARTED] = 'true';
  return {
    ...spec,
    Labels: labels,
    TaskTemplate: { ...spec.TaskTemplate, ForceUpdate: (spec.TaskTemplate.ForceUpdate ?? 0) + (forceNewTask ? 1 : 0) },
    Mode: { Replicated: { Replicas: replicas } },
  };
}
