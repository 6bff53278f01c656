import type Dockerode from 'dockerode';
import type { Logger } from 'pino';

interface PullEvent {
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
}

const PROGRESS_LOG_INTERVAL_MS = 2_000;

/** Pulls images with progress in the log; concurrent requests for one image share a single pull. */
export class ImagePuller {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly docker: Dockerode,
    private readonly logger: Logger,
  ) {}

  pull(image: string): Promise<void> {
    const running = this.inFlight.get(image);
    if (running) return running;
    const pulling = this.run(image).finally(() => this.inFlight.delete(image));
    this.inFlight.set(image, pulling);
    return pulling;
  }

  private async run(image: string): Promise<void> {
    this.logger.info({ image }, 'pulling missing image');
    const stream = await this.docker.pull(image);
    let lastLog = 0;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null, events: PullEvent[]) => {
          const failed = events?.find((event) => event.error);
          if (error || failed) reject(error ?? new Error(failed?.error));
          else resolve();
        },
        (event: PullEvent) => {
          const now = Date.now();
          if (now - lastLog < PROGRESS_LOG_INTERVAL_MS) return;
          lastLog = now;
          this.logger.info({ image, layer: event.id, status: event.status, progress: event.progress }, 'pull progress');
        },
      );
    });
    this.logger.info({ image }, 'image pulled');
  }
}
