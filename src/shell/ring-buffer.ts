/** The last `capacity` bytes written, for replaying a terminal's recent output. */
export class RingBuffer {
  private readonly buffer: Buffer;
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    this.buffer = Buffer.alloc(capacity);
  }

  get size(): number {
    return this.length;
  }

  write(chunk: Buffer): void {
    if (chunk.length >= this.capacity) {
      chunk.copy(this.buffer, 0, chunk.length - this.capacity);
      this.start = 0;
      this.length = this.capacity;
      return;
    }
    const end = (this.start + this.length) % this.capacity;
    const firstPart = Math.min(chunk.length, this.capacity - end);
    chunk.copy(this.buffer, end, 0, firstPart);
    chunk.copy(this.buffer, 0, firstPart);
    const overflow = Math.max(0, this.length + chunk.length - this.capacity);
    this.length = Math.min(this.capacity, this.length + chunk.length);
    this.start = (this.start + overflow) % this.capacity;
  }

  contents(): Buffer {
    const end = this.start + this.length;
    if (end <= this.capacity) return Buffer.from(this.buffer.subarray(this.start, end));
    return Buffer.concat([this.buffer.subarray(this.start), this.buffer.subarray(0, end - this.capacity)]);
  }
}
