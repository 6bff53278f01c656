import { HttpClient, expectStatus, json } from './http.js';
import { run } from './kai-process.js';

export const DOCKER_SOCKET = '/var/run/docker.sock';

interface ListItem {
  Id: string;
  Names: string[];
}

/** The bench's own view of the engine: raw HTTP over the unix socket, no dockerode. */
export class Engine {
  readonly client = new HttpClient({ kind: 'socket', socketPath: DOCKER_SOCKET });

  /** The exact list call Kai makes for GET /api/flexy, as a query string. */
  static listPath(filters: Record<string, string[]>): string {
    return `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`;
  }

  async version(): Promise<{ Version: string; ApiVersion: string; KernelVersion?: string; Os?: string }> {
    const response = await this.client.request('GET', '/version', undefined, 5_000);
    expectStatus(response, 200, 'engine /version');
    return json(response, 'engine /version');
  }

  async hasImage(image: string): Promise<boolean> {
    const response = await this.client.request('GET', `/images/${image}/json`, undefined, 5_000);
    return response.status === 200;
  }

  async list(filters: Record<string, string[]>): Promise<ListItem[]> {
    const response = await this.client.request('GET', Engine.listPath(filters), undefined, 30_000);
    expectStatus(response, 200, 'engine list');
    return json<ListItem[]>(response, 'engine list');
  }

  /** Force-removes one container; a missing one is already what we want. */
  async remove(ref: string): Promise<void> {
    const response = await this.client.request('DELETE', `/containers/${encodeURIComponent(ref)}?force=1&v=1`, undefined, 60_000);
    if (response.status !== 204 && response.status !== 404) expectStatus(response, 204, `remove ${ref}`);
  }

  close(): void {
    this.client.close();
  }
}

/** `docker rm -f` in chunks of 100, as a user would clean up; a container already gone is fine. */
export async function dockerRmForce(ids: string[]): Promise<void> {
  for (let start = 0; start < ids.length; start += 100) {
    const chunk = ids.slice(start, start + 100);
    const result = await run('docker', ['rm', '-f', ...chunk], { timeoutMs: 180_000 });
    if (result.code !== 0 && !/No such container/i.test(result.stderr)) {
      throw new Error(`docker rm -f failed (exit ${result.code}): ${result.stderr.trim().slice(0, 500)}`);
    }
  }
}
