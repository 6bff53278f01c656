import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';

/** The test's own view of the engine, to check what Kai did (the way a user would with the docker CLI). */
export const docker = new Dockerode();

const execFileAsync = promisify(execFile);

/** Runs the docker CLI, as a user at a terminal would. */
export async function dockerCli(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Removes every container labelled with this Kai instance, then its network. */
export async function removeInstance(instance: string, network?: string): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`kai.instance=${instance}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  if (network) await docker.getNetwork(network).remove().catch(() => undefined);
}

/** Removes containers by name, for ones a test made outside Kai. */
export async function removeByName(...names: string[]): Promise<void> {
  await Promise.all(names.map((name) => docker.getContainer(name).remove({ force: true }).catch(() => undefined)));
}
