/**
 * Call `tick` now and then every `intervalMs` after the previous call settled, while `active`.
 * A new call never starts before the previous one finished, so slow answers cannot pile up.
 */
import { useEffect, useRef } from 'react';

export function usePolling(tick: (signal: AbortSignal) => Promise<unknown>, intervalMs: number, active: boolean, key: unknown = null): void {
  const tickRef = useRef(tick);
  tickRef.current = tick;

  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        await tickRef.current(controller.signal);
      } catch {
        // the tick reports its own errors
      }
      if (!controller.signal.aborted) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [active, intervalMs, key]);
}
