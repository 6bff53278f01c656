import path from 'node:path';
import { KaiError, validationError } from '../errors.js';
import { confineDirectory } from '../host/path-guard.js';
import type { FlexyAction, FlexyDetails, FlexySummary, ListableStatus, Runtime } from '../runtime/types.js';

export const DEFAULT_CONTAINER_PATH = '/workspace';

export interface CreateFlexyInput {
  name: string;
  image?: string | undefined;
  hostPath?: string | undefined;
  containerPath?: string | undefined;
  env?: Record<string, string> | undefined;
  start?: boolean | undefined;
  node?: string | undefined;
}

export interface FlexyPage {
  containers: FlexySummary[];
  total: number;
  limit: number;
  offset: number;
}

export interface FlexyServiceOptions {
  hostRoot: string;
  defaultImage: string;
}

function checkContainerPath(containerPath: string): string {
  const normalized = path.posix.normalize(containerPath);
  if (normalized === '/' || normalized !== containerPath.replace(/\/+$/, '') || containerPath.split('/').includes('..')) {
    throw validationError('body.containerPath', 'must be a normalized absolute path below / (no "..", no "//")');
  }
  return normalized;
}

/** The rules of Flexy sandboxes: defaults, path confinement, paging. The runtime does the engine work. */
export class FlexyService {
  constructor(
    private readonly runtime: Runtime,
    private readonly options: FlexyServiceOptions,
  ) {}

  async list(query: { status?: ListableStatus | undefined; limit: number; offset: number }): Promise<FlexyPage> {
    // The engine has no offset: one list call, then Kai pages.
    const all = await this.runtime.list(query.status ? { status: query.status } : {});
    return {
      containers: all.slice(query.offset, query.offset + query.limit),
      total: all.length,
      limit: query.limit,
      offset: query.offset,
    };
  }

  get(ref: string): Promise<FlexyDetails> {
    return this.runtime.get(ref);
  }

  /** The real host path a sandbox may mount, or a 400/403 naming `field`. */
  async confineHostPath(hostPath: string, field = 'body.hostPath'): Promise<string> {
    try {
      return await confineDirectory(this.options.hostRoot, hostPath, field);
    } catch (error) {
      // For a mount source a missing folder is a bad value, not a missing resource.
      if (error instanceof KaiError && error.code === 'NOT_FOUND') throw validationError(field, 'does not exist');
      throw error;
    }
  }

  /** A node reference that names one of the runtime's nodes, as given (id or hostname), or a 400 naming `field`. */
  async checkNode(node: string, field = 'body.node'): Promise<string> {
    const nodes = await this.runtime.nodes();
    if (!nodes.some((candidate) => candidate.id === node || candidate.hostname === node)) {
      throw validationError(field, `no node "${node}" (GET /api/nodes lists them)`);
    }
    return node;
  }

  async create(input: CreateFlexyInput): Promise<FlexyDetails> {
    const containerPath = checkContainerPath(input.containerPath ?? DEFAULT_CONTAINER_PATH);
    const hostPath = input.hostPath === undefined ? null : await this.confineHostPath(input.hostPath);
    const created = await this.runtime.create({
      name: input.name,
      image: input.image ?? this.options.defaultImage,
      hostPath,
      containerPath,
      env: input.env ?? {},
      node: input.node ?? null,
    });
    if (!input.start) return created;
    try {
      await this.runtime.start(created.id);
    } catch (error) {
      if (error instanceof KaiError) {
        throw new KaiError(error.code, `Container created but not started: ${error.message}`, { ...error.details, id: created.id }, error.statusCode);
      }
      throw error;
    }
    return this.runtime.get(created.id);
  }

  start(ref: string): Promise<FlexyAction> {
    return this.runtime.start(ref);
  }

  stop(ref: string): Promise<FlexyAction> {
    return this.runtime.stop(ref);
  }

  restart(ref: string): Promise<FlexyAction> {
    return this.runtime.restart(ref);
  }

  remove(ref: string): Promise<FlexyAction> {
    return this.runtime.remove(ref);
  }
}
