// A network namespace that follows asynchronous work: what a shared transitd
// host (src/transitd/host.ts) runs for one droplet, it runs inside
// netnsContext.run(<droplet's netns path>, ...). Work that acts in the calling
// thread's namespace (the addon's attach and link calls, a devmap update,
// starting a child process) is done through inContextNetns, which moves the thread into that
// namespace for the synchronous call and back right after it. Outside any
// context (a transitd process of its own) it is a plain call.
import { openSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';

export const netnsContext = new AsyncLocalStorage<string>();

/** The thread's own namespace, as a path setns can open again (a kept fd: /proc/self/ns/net may be another thread's). */
let home: string | undefined;

/** Runs fn inside the context's namespace, if there is one; `enter` is setns of the calling thread (the addon's enterNetns). */
export function inContextNetns<T>(enter: (path: string) => void, fn: () => T): T {
  const ns = netnsContext.getStore();
  if (ns === undefined) return fn();
  home ??= `/proc/self/fd/${openSync('/proc/thread-self/ns/net', 'r')}`;
  enter(ns);
  try {
    return fn();
  } finally {
    enter(home);
  }
}
