import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * One daemon the chaos run owns: started from the sources with this Node (optionally inside a network namespace),
 * output appended to its log. `kill9()` is the fault; an exit the run did not cause is counted (a crash) and the
 * daemon is started again, so the run goes on and the report names it.
 */
export class Proc {
  readonly name: string;
  readonly logFile: string;
  #argv: string[];
  readonly #script: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #netns: string | undefined;
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> = Promise.resolve();
  #expectExit = false;
  #stopped = true;
  starts = 0;
  /** When the current process was started (Date.now()). */
  startedAt = 0;
  unexpectedExits: string[] = [];

  constructor(o: { name: string; script: string; args: string[]; logFile: string; logLevel?: string; netnsPath?: string }) {
    this.name = o.name;
    this.logFile = o.logFile;
    this.#script = path.resolve(ROOT, o.script);
    this.#argv = [this.#script, ...o.args];
    this.#env = { ...process.env, LOG_LEVEL: o.logLevel ?? 'info' };
    this.#netns = o.netnsPath;
  }

  /** The arguments after the script, for a daemon whose ports are known only once the run chose them. */
  setArgs(args: string[]): void {
    this.#argv = [this.#script, ...args];
  }

  get pid(): number | undefined {
    return this.#child?.exitCode === null && this.#child.signalCode === null ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return this.pid !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.#stopped = false;
    this.#expectExit = false;
    const out = createWriteStream(this.logFile, { flags: 'a' });
    // nsenter execs the command in place: the pid we hold is the daemon's own, so kill -9 hits the daemon.
    const [cmd, args] =
      this.#netns === undefined ? [process.execPath, this.#argv] : ['nsenter', [`--net=${this.#netns}`, '--', process.execPath, ...this.#argv]];
    const child = spawn(cmd, args, { cwd: ROOT, env: this.#env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    this.#child = child;
    this.starts++;
    this.startedAt = Date.now();
    this.#exited = once(child, 'exit').then(([code, signal]) => {
      if (this.#expectExit || this.#stopped) return;
      // Not our doing: note it, and bring it back as a supervisor would.
      this.unexpectedExits.push(`${this.name} exited with ${signal ?? code} (start ${this.starts})`);
      setTimeout(() => {
        if (!this.#stopped && !this.running) this.start();
      }, 1000);
    });
  }

  /** Open file descriptors of the running process pointing at `file` (e.g. its database: it is past start-up). */
  hasOpen(file: string): boolean {
    const pid = this.pid;
    if (pid === undefined) return false;
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  }

  /** SIGKILL and wait until the process is gone. */
  async kill9(): Promise<void> {
    const c = this.#child;
    if (c === undefined || !this.running) return;
    this.#expectExit = true;
    c.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (SIGKILL after `graceMs`) and no restart. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopped = true;
    const c = this.#child;
    if (c === undefined || !this.running) return;
    this.#expectExit = true;
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }
}
