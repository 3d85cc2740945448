/**
 * Runs `fn` with no two runs overlapping in this process: a trigger while a run is under
 * way asks for one more run after it (a notification arriving mid-run may announce rows
 * the run has already passed), and every caller gets the promise of the run that covers it.
 */
export function coalesced(fn: () => Promise<void>): { trigger(): Promise<void>; idle(): Promise<void> } {
  let current: Promise<void> | undefined;
  let again = false;
  return {
    trigger() {
      if (current) {
        again = true;
        return current;
      }
      current = (async () => {
        try {
          do {
            again = false;
            await fn();
          } while (again);
        } finally {
          current = undefined;
        }
      })();
      return current;
    },
    async idle() {
      await current?.catch(() => {});
    },
  };
}
