import type Dockerode from 'dockerode';
import type { TerminalOptions, TerminalProcess } from '../types.js';
import { LABEL_CONTAINER_PATH } from './labels.js';

/** Environment marker every process of a terminal inherits; it is how Kai finds them to end them. */
export const TERMINAL_MARKER = 'KAI_TERMINAL_SESSION';

const SHELL = 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi';

/**
 * Kills every process in the container whose environment carries the
 * terminal's marker: the shell and whatever it started, even daemons that
 * left its session. Runs as root inside the container, so it works whoever
 * the shell's user is and wherever the engine is.
 */
function killScript(sessionId: string): string {
  const marker = `${TERMINAL_MARKER}=${sessionId}`;
  return [
    'for dir in /proc/[0-9]*; do',
    `  if tr '\\000' '\\n' < "$dir/environ" 2>/dev/null | grep -qx '${marker}'; then kill -9 "\${dir#/proc/}" 2>/dev/null; fi`,
    'done',
  ].join('\n');
}

export async function openTerminal(
  docker: Dockerode,
  info: Dockerode.ContainerInspectInfo,
  options: TerminalOptions,
): Promise<TerminalProcess> {
  const container = docker.getContainer(info.Id);
  const workingDir = info.Config.Labels?.[LABEL_CONTAINER_PATH] ?? info.Config.WorkingDir ?? '/';
  const exec = await container.exec({
    Cmd: ['/bin/sh', '-c', SHELL],
    Env: [`${TERMINAL_MARKER}=${options.sessionId}`, 'TERM=xterm-256color'],
    WorkingDir: workingDir,
    Tty: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as NodeJS.ReadWriteStream;
  const resize = async (cols: number, rows: number) => {
    try {
      await exec.resize({ h: rows, w: cols });
    } catch {
      // Resizing races the start and fails once the process has exited; neither matters to the user.
    }
  };
  await resize(options.cols, options.rows);
  return {
    containerId: info.Id,
    stream,
    resize,
    async kill() {
      try {
        const killer = await container.exec({ Cmd: ['/bin/sh', '-c', killScript(options.sessionId)], User: '0', AttachStdout: true, AttachStderr: true });
        const output = (await killer.start({ hijack: true })) as NodeJS.ReadableStream;
        output.resume();
        await new Promise<void>((resolve) => {
          output.on('end', resolve);
          output.on('close', resolve);
          output.on('error', () => resolve());
        });
      } catch {
        // The container stopped or is gone: its processes went with it.
      }
      (stream as unknown as { destroy?: () => void }).destroy?.();
    },
  };
}
