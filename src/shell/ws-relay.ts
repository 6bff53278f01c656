import { WebSocket, type RawData } from 'ws';

/** Buffered bytes on one side above which the other side stops being read. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** Close codes that may not be sent on the wire; they become a normal close or an error close. */
function sendableCode(code: number): number {
  if (code === 1005) return 1000;
  if (code === 1006 || code === 1015 || code < 1000 || code >= 5000) return 1011;
  return code;
}

/**
 * Relays frames between a client socket and a sandbox socket unchanged
 * (binary stays binary, text stays text), with backpressure both ways and
 * closes passed along with their codes.
 */
export function relay(client: WebSocket, upstream: WebSocket): void {
  const queued: Array<[RawData, boolean]> = [];

  const forward = (from: WebSocket, to: WebSocket) => (data: RawData, isBinary: boolean) => {
    to.send(data, { binary: isBinary }, () => {
      if (to.bufferedAmount < HIGH_WATER_BYTES && from.isPaused) from.resume();
    });
    if (to.bufferedAmount >= HIGH_WATER_BYTES) from.pause();
  };

  client.on('message', (data, isBinary) => {
    if (upstream.readyState === WebSocket.CONNECTING) queued.push([data, isBinary]);
    else if (upstream.readyState === WebSocket.OPEN) forward(client, upstream)(data, isBinary);
  });
  upstream.on('open', () => {
    for (const [data, isBinary] of queued.splice(0)) upstream.send(data, { binary: isBinary });
  });
  upstream.on('message', forward(upstream, client));

  const closeOther = (other: WebSocket) => (code: number, reason: Buffer) => {
    if (other.readyState === WebSocket.OPEN) other.close(sendableCode(code), reason.toString().slice(0, 120));
    else if (other.readyState === WebSocket.CONNECTING) other.terminate();
  };
  client.on('close', closeOther(upstream));
  upstream.on('close', closeOther(client));
  client.on('error', () => upstream.terminate());
  upstream.on('error', () => {
    if (client.readyState === WebSocket.OPEN) client.close(1011, 'the sandbox connection failed');
  });
}
