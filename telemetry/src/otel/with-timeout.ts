/**
 * Resolves when `work` settles or after `timeoutMs`, whichever comes first.
 * Used where waiting longer is worse than giving up, such as flushing spans to a
 * collector that does not answer while the process is asked to stop.
 */
export async function withTimeout(work: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
