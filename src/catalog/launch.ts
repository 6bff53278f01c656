import { randomBytes } from 'node:crypto';
import { KaiError } from '../errors.js';
import { DEFAULT_CONTAINER_PATH, type FlexyService } from '../flexy/service.js';
import type { FlexyDetails } from '../runtime/types.js';
import type { CatalogItem, CatalogStore } from './store.js';

export interface LaunchInput {
  name?: string | undefined;
  image?: string | undefined;
  env?: Record<string, string> | undefined;
  node?: string | undefined;
}

export interface LaunchResult {
  item: CatalogItem;
  container: FlexyDetails;
  /** false when the item's existing container was (re)started instead. */
  created: boolean;
}

/** A Docker-valid container name from a free-form project name, made unique with a short suffix. */
export function containerNameFor(itemName: string): string {
  const slug = itemName
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 48);
  return `${slug || 'flexy'}-${randomBytes(3).toString('hex')}`;
}

export function catalogItemNotFound(id: string): KaiError {
  return new KaiError('NOT_FOUND', `No catalog item "${id}"`, { id });
}

/**
 * Launching an item makes sure a sandbox for that project is running: its
 * recorded container is started if it still exists, otherwise a new one is
 * created (folder at /workspace) and recorded.
 */
export class CatalogLauncher {
  /** One launch per item at a time, so a double click cannot make two sandboxes. */
  private readonly inProgress = new Map<string, Promise<LaunchResult>>();

  constructor(
    private readonly store: CatalogStore,
    private readonly flexy: FlexyService,
  ) {}

  launch(id: string, input: LaunchInput): Promise<LaunchResult> {
    const running = this.inProgress.get(id);
    if (running) return running;
    const launching = this.run(id, input).finally(() => this.inProgress.delete(id));
    this.inProgress.set(id, launching);
    return launching;
  }

  private async run(id: string, input: LaunchInput): Promise<LaunchResult> {
    const item = this.store.get(id);
    if (!item) throw catalogItemNotFound(id);

    if (item.containerId) {
      const existing = await this.existing(item.containerId);
      if (existing) {
        await this.flexy.start(existing.id);
        return { item, container: await this.flexy.get(existing.id), created: false };
      }
    }

    let container: FlexyDetails;
    try {
      container = await this.flexy.create({
        name: input.name ?? containerNameFor(item.name),
        image: input.image,
        hostPath: item.hostPath,
        containerPath: DEFAULT_CONTAINER_PATH,
        env: input.env,
        node: input.node ?? item.node ?? undefined,
        start: true,
      });
    } catch (error) {
      // Created but not started: record it anyway, so the next launch starts it instead of making another.
      const createdId = error instanceof KaiError ? error.details.id : undefined;
      if (typeof createdId === 'string') this.store.setContainer(item.id, createdId);
      throw error;
    }
    this.store.setContainer(item.id, container.id);
    return { item: { ...item, containerId: container.id }, container, created: true };
  }

  private async existing(containerId: string): Promise<FlexyDetails | undefined> {
    try {
      return await this.flexy.get(containerId);
    } catch (error) {
      if (error instanceof KaiError && error.code === 'CONTAINER_NOT_FOUND') return undefined;
      throw error;
    }
  }
}
