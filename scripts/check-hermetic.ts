// `node scripts/check-hermetic.ts <command...>` (CI: `... npm test`) runs the command under strace, then fails,
// naming each path, when a process of the run opened, executed or looked up an existing file outside the
// checkout, outside ../shared and outside the system locations every program uses. The failure it is for: a test
// that passes only on the machine where it was written, because it reads another checkout of this project,
// somebody's home directory, or this project's install paths on the host (/etc/kubeedge, /var/lib/kubeedge, ...).
// `node scripts/check-hermetic.ts --trace <file>` checks a trace written before (see STRACE_ARGS).
//
// Only successful calls count: a probe that finds nothing (PATH search, module resolution walking up) read
// nothing; lookups of this project's install paths that found nothing are listed as a note. Relative paths are
// resolved against each process's working directory, followed through chdir and inherited (or shared, for
// threads) across clone/fork. Processes started by a containerd shim, or inside a PID namespace (no traced clone
// names them), are left out: they run inside containers, where paths name the container's filesystem, not the
// host's. Allowed: see OURS, ALLOWED, NPM_OWN below.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(import.meta.dirname, '..');
const SHARED = resolve(ROOT, '..', 'shared');

/** The checkout and ../shared, as named and as resolved. */
const REAL_ROOT = realpathSync(ROOT);
const OURS = uniq([...withReal(ROOT), ...withReal(SHARED)]);

/** Where a process of the run may look: the checkout, ../shared and what the OS, libc, Node and the engines use. */
const ALLOWED = uniq([
  ...OURS,
  // binaries, libraries, system config (resolv.conf, ssl, passwd, ld.so), kernel interfaces, devices
  ...['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/proc', '/sys', '/dev'],
  // sockets, pid files and scratch space; tests make their directories with mkdtemp under the OS temp dir
  ...['/run', '/var/run', '/tmp', '/var/tmp', ...withReal(tmpdir())],
  // the engines' own state (Docker's and containerd's images, CNI plugins and their state)
  ...['/var/lib/docker', '/var/lib/containerd', '/var/lib/cni', '/opt/cni', '/etc/cni'],
]);
/** Single files of the same kind: the marker of running inside a Docker container. */
const ALLOWED_FILES = new Set(['/.dockerenv']);

/** Inside allowed places but never the tests' business: this project's install paths on the host. */
const DENIED = [
  '/etc/kubeedge',
  '/var/lib/kubeedge',
  '/var/lib/kubeedge-ts',
  '/var/lib/kubelet',
  '/var/lib/edged',
  '/var/log/kubeedge',
  '/var/log/pods',
  '/run/kubeedge',
];

/**
 * npm and npx themselves (their processes, not what they start) read the user's config and write their cache and
 * logs; what npx installed to run (its _npx directory, for `npx <bin>` of this package a link to the checkout)
 * may be run by anyone.
 */
const HOME = process.env['HOME'] ?? homedir();
const NPM_CACHE = resolve(process.env['npm_config_cache'] ?? resolve(HOME, '.npm'));
const NPM_OWN = uniq([resolve(HOME, '.npmrc'), resolve(HOME, '.gitconfig'), NPM_CACHE]);
const NPX_DIR = resolve(NPM_CACHE, '_npx');

/** Path argument position per traced syscall: 0 = first argument, 1 = after a dirfd. */
const PATH_ARG: Record<string, 0 | 1> = {
  open: 0,
  creat: 0,
  access: 0,
  stat: 0,
  lstat: 0,
  stat64: 0,
  lstat64: 0,
  execve: 0,
  chdir: 0,
  openat: 1,
  openat2: 1,
  faccessat: 1,
  faccessat2: 1,
  newfstatat: 1,
  fstatat64: 1,
  statx: 1,
  execveat: 1,
};
const MAX_LINES = 200;
const GROUP = 3;

type FsContext = { cwd: string };
type Proc = { pid: number; parent: Proc | undefined; fs: FsContext; argv: string[] | undefined; inContainer: boolean };
type Finding = { path: string; ops: Set<string>; why: string; who: string; count: number; within?: string };

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function withReal(p: string): string[] {
  try {
    return [p, realpathSync(p)];
  } catch {
    return [p];
  }
}

function under(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The directories on the way to the allowed ones ("/", "/work", "/var"): realpath lstat's each of them. */
const ANCESTORS = new Set<string>();
for (const p of [...OURS, NPX_DIR, ...ALLOWED]) {
  for (let d = dirname(p); ; d = dirname(d)) {
    ANCESTORS.add(d);
    if (d === dirname(d)) break;
  }
}

/** The directories on PATH themselves (tools list them, e.g. kubectl looking for plugins); not what is in them. */
const PATH_DIRS = new Set(
  (process.env['PATH'] ?? '')
    .split(':')
    .filter((d) => isAbsolute(d))
    .map((d) => resolve(d)),
);

/** A checkout of this project other than ours, wherever it lies (even under /tmp): its package.json says so. */
const otherCheckoutCache = new Map<string, string | undefined>();
function otherCheckout(p: string): string | undefined {
  for (let d = dirname(p); d !== dirname(d); d = dirname(d)) {
    if (d === ROOT || realOf(d) === REAL_ROOT) return undefined;
    let found = otherCheckoutCache.get(d);
    if (!otherCheckoutCache.has(d)) {
      found = undefined;
      try {
        const pkg = JSON.parse(readFileSync(resolve(d, 'package.json'), 'utf8')) as { name?: unknown };
        if (pkg.name === 'kubeedge-ts') found = d;
      } catch {
        // no package.json here
      }
      otherCheckoutCache.set(d, found);
    }
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Why `p`, used by `proc`, breaks hermeticity; undefined when it is fine. */
function violation(p: string, proc: Proc): string | undefined {
  if (OURS.some((r) => under(p, r))) return undefined;
  if (ANCESTORS.has(p) || ALLOWED_FILES.has(p) || PATH_DIRS.has(p)) return undefined;
  const other = otherCheckout(p);
  if (other !== undefined) return `another checkout of this project (${other})`;
  if (DENIED.some((d) => under(p, d))) return "this project's install path on the host";
  if (ALLOWED.some((a) => under(p, a))) return undefined;
  if (isNpm(proc) && (p === HOME || NPM_OWN.some((n) => under(p, n)))) return undefined;
  if (under(p, NPX_DIR)) return undefined;
  const real = realOf(p);
  if (real !== undefined && real !== p && violation(real, proc) === undefined) return undefined;
  if (under(p, HOME)) return 'a home directory';
  return 'outside the checkout';
}

function isNpm(proc: Proc): boolean {
  const a = proc.argv ?? [];
  return a.slice(0, 2).some((x) => ['npm', 'npx', 'npm-cli.js', 'npx-cli.js'].includes(basename(x)));
}

/** Where a symlink outside leads (e.g. into the checkout); undefined when it is gone by now. */
const realCache = new Map<string, string | undefined>();
function realOf(p: string): string | undefined {
  if (!realCache.has(p)) {
    try {
      realCache.set(p, realpathSync(p));
    } catch {
      realCache.set(p, undefined);
    }
  }
  return realCache.get(p);
}

/** Reads a C string as strace prints it (escapes \n, \", \\, \ooo, \xhh) starting at the opening quote. */
function cString(s: string, i: number): [string, number] | undefined {
  if (s[i] !== '"') return undefined;
  const close = s.indexOf('"', i + 1);
  if (close < 0) return undefined;
  const plain = s.slice(i + 1, close);
  if (!plain.includes('\\')) return [plain, close + 1];
  const bytes: number[] = [];
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j] as string;
    if (c === '"') return [Buffer.from(bytes).toString('utf8'), j + 1];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = s[++j] ?? '';
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '"': 34, '\\': 92 };
    if (n in simple) bytes.push(simple[n] as number);
    else if (n === 'x') {
      bytes.push(Number.parseInt(s.slice(j + 1, j + 3), 16));
      j += 2;
    } else if (/[0-7]/.test(n)) {
      const oct = /^[0-7]{1,3}/.exec(s.slice(j))?.[0] ?? n;
      bytes.push(Number.parseInt(oct, 8));
      j += oct.length - 1;
    } else bytes.push(n.charCodeAt(0));
  }
  return undefined;
}

/** The first `max` arguments after `name(`, split at top-level commas, kept as raw text. */
function args(call: string, open: number, max: number): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = open;
  for (let j = open; j < call.length; j++) {
    const c = call[j];
    if (c === '"') {
      const str = cString(call, j);
      if (str === undefined) break;
      j = str[1] - 1;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ')') {
      if (depth === 0) {
        out.push(call.slice(start, j).trim());
        return out;
      }
      depth--;
    } else if (c === ',' && depth === 0) {
      out.push(call.slice(start, j).trim());
      if (out.length >= max) return out;
      start = j + 1;
    }
  }
  out.push(call.slice(start).trim());
  return out;
}

function argvOf(raw: string): string[] | undefined {
  if (!raw.startsWith('[')) return undefined;
  const out: string[] = [];
  for (let j = 1; j < raw.length; j++) {
    if (raw[j] !== '"') continue;
    const str = cString(raw, j);
    if (str === undefined) break;
    out.push(str[0]);
    j = str[1] - 1;
  }
  return out;
}

/**
 * Only the calls that name a path, plus clone and chdir to resolve relative ones; the filter runs in the kernel
 * (--seccomp-bpf), so a traced run stays close to untraced speed.
 */
const STRACE_ARGS = [
  '-f',
  '--seccomp-bpf',
  '-qq',
  // SIGTERM detaches (with -o and a command strace would otherwise block it and wait for every tracee)
  '-I',
  '2',
  '-e',
  'signal=none',
  '-s',
  '4096',
  '-e',
  'trace=/^(open|openat|openat2|creat|execve|execveat|chdir|clone|clone3|fork|vfork|access|faccessat|faccessat2|stat|lstat|newfstatat|statx)$',
];

/** Runs `command` under strace writing `trace`; resolves with the command's exit status. */
async function traced(command: string[], trace: string, statusFile: string): Promise<number> {
  // sh records the command's status: strace itself waits for every traced process, and one that a test left
  // running must not hold the run once the command has ended.
  const child = spawn('strace', [...STRACE_ARGS, '-o', trace, 'sh', '-c', '"$@"; echo $? > "$0"', statusFile, ...command], {
    stdio: 'inherit',
  });
  const exited = new Promise<number>((done) => {
    child.on('exit', (code) => done(code ?? 1));
    child.on('error', (err) => {
      console.error(`hermetic check: cannot run strace (${err.message}); it is a Debian package: apt-get install strace`);
      done(127);
    });
  });
  const ended = (async () => {
    while (!existsSync(statusFile)) await new Promise((r) => setTimeout(r, 500));
  })();
  const first = await Promise.race([exited.then((code) => ({ code })), ended.then(() => undefined)]);
  if (first !== undefined && !existsSync(statusFile)) return first.code === 0 ? 1 : first.code;
  const late = setTimeout(() => {
    console.error('hermetic check: processes left running after the command ended; detaching strace from them');
    child.kill('SIGTERM');
  }, 5000);
  await exited;
  clearTimeout(late);
  return Number(readFileSync(statusFile, 'utf8').trim());
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--trace' && argv.length === 2) return check(argv[1] as string);
  if (argv[0] === '--') argv.shift();
  if (argv.length === 0 || argv[0]?.startsWith('-')) {
    console.error('usage: node scripts/check-hermetic.ts <command...> | --trace <strace -f output>   (from the checkout)');
    return 2;
  }
  const dir = mkdtempSync(resolve(tmpdir(), 'hermetic-'));
  const trace = resolve(dir, 'trace');
  const status = await traced(argv, trace, resolve(dir, 'status'));
  const hermetic = await check(trace);
  if (status === 0 && hermetic === 0) rmSync(dir, { recursive: true, force: true });
  else console.error(`hermetic check: command exited ${status}; the trace is kept in ${trace}`);
  return status !== 0 ? status : hermetic;
}

async function check(tracePath: string): Promise<number> {
  const startCwd = process.cwd();
  const procs = new Map<number, Proc>();
  // Pass 1: who started whom, and sharing the working directory or not (a child's first line may come before
  // its parent's clone returns).
  // A long run starts more processes and threads than pid_max, so a pid is reused: every clone that returned it
  // is kept with its place in the trace, and a call belongs to the latest of them (see `incarnation`).
  type Link = { at: number; parent: number; sharesFs: boolean };
  const parents = new Map<number, Link[]>();
  let rootPid: number | undefined;
  let at = 0;
  for await (const [pid, call] of calls(tracePath)) {
    at++;
    rootPid ??= pid;
    const m = /^(clone3?|v?fork)\(/.exec(call);
    if (m === null) continue;
    const child = /\)\s+=\s+(\d+)$/.exec(call)?.[1];
    if (child === undefined) continue;
    const list = parents.get(Number(child)) ?? [];
    list.push({ at, parent: pid, sharesFs: /CLONE_FS|CLONE_THREAD/.test(call) });
    parents.set(Number(child), list);
  }
  // The clone that started the pid seen at trace position `pos`: the last one before it, allowing for a child's
  // first calls printed a little before its parent's clone returns (a reuse is a whole pid_max of clones away).
  const SLACK = 1000;
  const incarnation = (pid: number, pos: number): Link | undefined => {
    let found: Link | undefined;
    for (const l of parents.get(pid) ?? []) if (l.at <= pos + SLACK) found = l;
    return found;
  };
  const current = new Map<number, Link | undefined>();
  let made = 0;
  const procAt = (pid: number, pos: number): Proc => {
    const link = incarnation(pid, pos);
    if (procs.has(pid) && current.get(pid) !== link) procs.delete(pid);
    current.set(pid, link);
    return proc(pid, pos);
  };
  const proc = (pid: number, pos: number): Proc => {
    let p = procs.get(pid);
    if (p !== undefined) return p;
    const link = incarnation(pid, pos);
    current.set(pid, link);
    const parent = link !== undefined ? procAt(link.parent, link.at) : undefined;
    p = {
      pid,
      parent,
      fs: parent === undefined ? { cwd: startCwd } : link?.sharesFs ? parent.fs : { cwd: parent.fs.cwd },
      argv: parent?.argv,
      // clone returns the child's pid in the caller's PID namespace, which is the tracer's for every host
      // process: a process whose start no traced clone names was started inside a container's PID namespace.
      inContainer: parent?.inContainer ?? (link === undefined && pid !== rootPid),
    };
    procs.set(pid, p);
    made++;
    return p;
  };
  const who = (p: Proc): string => {
    for (let q: Proc | undefined = p; q !== undefined; q = q.parent) {
      const file = q.argv?.find((a) => a.endsWith('.test.ts'));
      if (file !== undefined) return relative(ROOT, resolve(q.fs.cwd, file));
    }
    const cmd = (p.argv ?? []).join(' ');
    return cmd.length > 120 ? `${cmd.slice(0, 117)}...` : cmd;
  };

  const findings = new Map<string, Finding>();
  const absent = new Map<string, Set<string>>();
  let seen = 0;
  at = 0;
  for await (const [pid, call] of calls(tracePath)) {
    at++;
    const open = call.indexOf('(');
    const name = call.slice(0, open);
    const pos = PATH_ARG[name];
    if (pos === undefined) continue;
    // The result: the last ` = ` (what follows it, e.g. `ENOENT (No such file or directory)`, has none).
    const ret = /\s=\s(-?\d+|\?)[^=]*$/.exec(call)?.[1];
    if (ret === undefined) continue;
    const ok = ret !== '?' && !ret.startsWith('-');
    const p = procAt(pid, at);
    const a = args(call, open + 1, pos + 2);
    const rawPath = a[pos] ?? '';
    const str = cString(rawPath, 0);
    if (str === undefined || str[0] === '') continue; // fd-relative (AT_EMPTY_PATH) or unparsed
    if (pos === 1 && a[0] !== 'AT_FDCWD' && !isAbsolute(str[0])) {
      // Relative to a directory descriptor (e.g. rm -r walking a tree): `-y` would name it; its directory was
      // opened by path before, and checked then.
      continue;
    }
    const path = resolve(p.fs.cwd, str[0]);
    if (!ok) {
      // Looked for and absent here: harmless, except for this project's install paths, which a developer's
      // machine may well have (a test run there would then read them).
      if (!p.inContainer && DENIED.some((d) => under(path, d))) absent.set(path, (absent.get(path) ?? new Set()).add(who(p)));
      continue;
    }
    if (name === 'chdir') {
      p.fs.cwd = path;
      continue;
    }
    if (name === 'execve' || name === 'execveat') {
      p.argv = argvOf(a[pos + 1] ?? '') ?? [path];
      // A shim starts containers: from here on paths are the container's, not the host's.
      if (basename(path).startsWith('containerd-shim')) p.inContainer = true;
    }
    if (p.inContainer) continue;
    seen++;
    const why = violation(path, p);
    if (why === undefined) continue;
    const by = who(p);
    const key = `${path}\0${by}`;
    // Files of another checkout are reported together per test once there are many: its root names the mistake.
    const other = why.startsWith('another checkout') ? otherCheckout(path) : undefined;
    const f = findings.get(key) ?? { path, ops: new Set<string>(), why, who: by, count: 0, ...(other !== undefined ? { within: other } : {}) };
    f.ops.add(opOf(name, a));
    f.count++;
    findings.set(key, f);
  }

  if (made === 0) {
    console.error(`hermetic check: ${tracePath} holds no traced calls; was the run traced?`);
    return 1;
  }
  if (absent.size > 0) {
    console.error(`hermetic check: note: ${absent.size} install path(s) of this project looked for and absent on this host; where present they would be read:`);
    for (const [path, by] of [...absent].sort((x, y) => x[0].localeCompare(y[0]))) console.error(`  ${path} by ${[...by].sort().join(', ')}`);
  }
  if (findings.size === 0) {
    console.log(`hermetic check: ${seen} file accesses by ${made} processes and threads, all inside the checkout, ../shared or system locations`);
    return 0;
  }
  const lines = report([...findings.values()]);
  console.error(`hermetic check FAILED: ${findings.size} path(s) outside the checkout, ../shared and system locations:`);
  for (const line of lines.slice(0, MAX_LINES)) console.error(`  ${line}`);
  if (lines.length > MAX_LINES) console.error(`  ... and ${lines.length - MAX_LINES} more`);
  console.error('Tests find their files relative to import.meta.dirname (fixtures in test/fixtures/) and write under mkdtemp(tmpdir()).');
  return 1;
}

/** One line per finding; more than GROUP files of one directory (or of another checkout) used by one test become one line. */
function report(findings: Finding[]): string[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.who}\0${f.within ?? dirname(f.path)}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const out: [string, string][] = [];
  for (const group of groups.values()) {
    const first = group[0] as Finding;
    const ops = [...new Set(group.flatMap((f) => [...f.ops]))].join(', ');
    if (group.length > GROUP) {
      const where = first.within !== undefined ? `${first.within}/...` : `${dirname(first.path)}/*`;
      out.push([first.who, `${where} (${group.length} files ${ops}: ${first.why}) by ${first.who}`]);
      continue;
    }
    for (const f of group) {
      out.push([f.who, `${f.path} (${[...f.ops].join(', ')}${f.count > 1 ? ` ${f.count} times` : ''}: ${f.why}) by ${f.who}`]);
    }
  }
  return out.sort((x, y) => x[0].localeCompare(y[0]) || x[1].localeCompare(y[1])).map(([, line]) => line);
}

function opOf(name: string, a: string[]): string {
  if (name.startsWith('exec')) return 'executed';
  if (name.startsWith('open') || name === 'creat') {
    const flags = a.find((x) => /O_(RDONLY|WRONLY|RDWR)/.test(x)) ?? '';
    return /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(flags) ? 'opened for writing' : 'read';
  }
  return 'looked up';
}

/** [pid, call] per completed syscall, `<unfinished ...>` halves joined with their `<... resumed>` rest. */
async function* calls(file: string): AsyncGenerator<[number, string]> {
  const pending = new Map<number, string>();
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const pid = Number(m[1]);
    let call = m[2] as string;
    if (call.startsWith('+++') || call.startsWith('---')) continue;
    if (call.startsWith('<...')) {
      const head = pending.get(pid);
      pending.delete(pid);
      const close = call.indexOf('resumed>');
      if (head === undefined || close < 0) continue;
      call = head + call.slice(close + 'resumed>'.length);
    }
    const unfinished = call.indexOf(' <unfinished ...>');
    if (unfinished >= 0) {
      pending.set(pid, call.slice(0, unfinished));
      continue;
    }
    yield [pid, call];
  }
}

process.exit(await main());
