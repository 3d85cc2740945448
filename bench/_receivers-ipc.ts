/** The benchmarks' side of bench/_receivers.ts: starts it as a child process. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The receivers' process (bench/_receivers.ts), spoken to over IPC: `call(op, args)` resolves with its answer. */
export function startReceivers(): { call<T>(op: string, args?: Record<string, unknown>): Promise<T>; child: ChildProcess } {
  const child = fork(fileURLToPath(new URL('./_receivers.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(`receivers: ${m.error}`));
    else p?.resolve(m.result);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`receivers exited with ${code}`));
    pending.clear();
  });
  return {
    child,
    call<T>(op: string, args: Record<string, unknown> = {}) {
      return new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, ...args });
      });
    },
  };
}
