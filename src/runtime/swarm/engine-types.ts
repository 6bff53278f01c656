/**
 * The parts of the engine's Swarm objects (GET /services, /tasks, /nodes)
 * that Kai reads. dockerode types them loosely; these say what Kai relies on.
 */

export interface SwarmMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
}

export interface SwarmServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Env?: string[];
      Labels?: Record<string, string>;
      Dir?: string;
      Mounts?: SwarmMount[];
      Init?: boolean;
      StopGracePeriod?: number;
    };
    RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number };
    Placement?: { Constraints?: string[] };
    Networks?: Array<{ Target: string }>;
    ForceUpdate?: number;
  };
  Mode: { Replicated?: { Replicas?: number } };
  EndpointSpec?: { Mode?: 'vip' | 'dnsrr'; Ports?: Array<{ Protocol: string; TargetPort: number; PublishMode: string; PublishedPort?: number }> };
}

export interface SwarmService {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  Spec: SwarmServiceSpec;
}

export type TaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned';

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Version: { Index: number };
  CreatedAt: string;
  UpdatedAt: string;
  DesiredState: TaskState;
  Status: {
    Timestamp?: string;
    State: TaskState;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: Array<{ Protocol?: string; TargetPort?: number; PublishedPort?: number; PublishMode?: string }> };
  };
}

export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string; Resources?: { NanoCPUs?: number; MemoryBytes?: number } };
  Spec: { Role?: 'manager' | 'worker'; Availability?: string; Labels?: Record<string, string> };
  Status: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Addr?: string; Reachability?: string };
}

/** What one read of the cluster gives: Kai's services with their tasks, and every node. */
export interface ClusterView {
  services: SwarmService[];
  tasksByService: Map<string, SwarmTask[]>;
  nodes: Map<string, SwarmNode>;
}
