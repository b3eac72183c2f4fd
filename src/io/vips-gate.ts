/**
 * libvips keeps one error buffer for the whole process, and sharp reads and clears it when an
 * operation fails. Two decodes that fail at the same time (a folder of broken files decoded a few at
 * a time) can therefore swap their reasons ("corrupt or truncated PNG: premature end of JPEG image")
 * or lose one ("Unknown error"). {@link withOwnReason} runs an operation side by side with others
 * and, when it fails, runs it again alone — after the others under way have finished, with none
 * starting meanwhile — so the error it throws carries its own reason. Success costs nothing extra.
 *
 * Covers the operations run through it on this thread; sharp calls elsewhere (worker threads,
 * resizing in the pipeline) are not held back.
 *
 * @example
 *   const meta = await withOwnReason(() => sharp(bytes).metadata());
 */

/** Many shared holders at once, or one exclusive holder. */
class SharedOrAlone {
  #shared = 0;
  /** Settles when the exclusive holder is done; null when there is none. */
  #alone: Promise<void> | null = null;
  /** Called when the last shared holder leaves while an exclusive holder waits. */
  #onIdle: (() => void) | null = null;

  async shared<T>(run: () => Promise<T>): Promise<T> {
    while (this.#alone) await this.#alone;
    this.#shared++;
    try {
      return await run();
    } finally {
      if (--this.#shared === 0) this.#onIdle?.();
    }
  }

  async alone<T>(run: () => Promise<T>): Promise<T> {
    while (this.#alone) await this.#alone;
    let release = (): void => {};
    this.#alone = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.#shared > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
      this.#onIdle = null;
      return await run();
    } finally {
      this.#alone = null;
      release();
    }
  }
}

const gate = new SharedOrAlone();

/** `run()` beside other such operations; when it fails, run again alone and its result or error given (module comment). */
export async function withOwnReason<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await gate.shared(run);
  } catch {
    return gate.alone(run);
  }
}
