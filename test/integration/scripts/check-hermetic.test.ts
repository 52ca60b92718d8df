// scripts/check-hermetic.ts reads an strace trace and names what a run used outside the checkout. Fed recorded
// trace lines (not a live strace: under CI this file itself runs traced, and a traced process cannot trace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ke-hermetic-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// Another checkout of this project (its package.json says so) and a home directory outside every allowed place
// (and absent, so that the check's own realpath of its files finds nothing there).
const other = path.join(dir, 'other-checkout');
mkdirSync(other);
writeFileSync(path.join(other, 'package.json'), '{"name": "kubeedge-ts"}\n');
const home = '/nonexistent-ke-hermetic-home';

function check(lines: string[]): { code: number | null; out: string } {
  const file = path.join(dir, `trace-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = spawnSync(process.execPath, ['scripts/check-hermetic.ts', '--trace', file], { cwd: root, encoding: 'utf8', env: { ...process.env, HOME: home } });
  return { code: r.status, out: r.stdout + r.stderr };
}

const start = [
  `100 execve("/usr/bin/node", ["node", "--test"], 0x7ffd /* 30 vars */) = 0`,
  `100 openat(AT_FDCWD, "package.json", O_RDONLY|O_CLOEXEC) = 3`,
  `100 statx(AT_FDCWD, "/usr/lib/x86_64-linux-gnu", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL, stx_mode=S_IFDIR|0755, ...}) = 0`,
];

test('a run inside the checkout, ../shared and system locations passes', () => {
  const r = check([
    ...start,
    `100 openat(AT_FDCWD, "${path.resolve(root, '..', 'shared', 'reference', 'x.json')}", O_RDONLY) = 4`,
    `100 openat(AT_FDCWD, "/tmp/ke-x/edgecore.db", O_RDWR|O_CREAT|O_CLOEXEC, 0644) = 5`,
    `100 openat(AT_FDCWD, "/srv/absent", O_RDONLY) = -1 ENOENT (No such file or directory)`,
  ]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^hermetic check: 5 file accesses by 1 processes and threads, all inside/m);
});

test('files of another checkout, of a home directory and absent install paths are named with the test that used them', () => {
  const r = check([
    ...start,
    `100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101`,
    // a test process moves into the other checkout and opens a relative path there, the call split in two
    `101 chdir("${other}") = 0`,
    `101 execve("/usr/bin/node", ["node", "${root}/test/a.test.ts"], 0x18 /* 31 vars */) = 0`,
    `101 openat(AT_FDCWD, "README.md", O_RDONLY|O_CLOEXEC <unfinished ...>`,
    `100 openat(AT_FDCWD, "src/core/bus.ts", O_RDONLY) = 6`,
    `101 <... openat resumed>) = 4`,
    `101 openat(AT_FDCWD, "${home}/.kube/config", O_RDONLY|O_CLOEXEC) = 5`,
    `101 access("/etc/kubeedge/bootstrap-edgecore.conf", F_OK) = -1 ENOENT (No such file or directory)`,
    // a thread shares its process's working directory (the checkout): fine
    `100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x7f} => {parent_tid=[102]}, 88) = 102`,
    `102 openat(AT_FDCWD, "dist/edgecore.mjs", O_RDONLY) = 7`,
    // npm reads its own user config; what it starts may not
    `100 clone(child_stack=NULL, flags=SIGCHLD) = 103`,
    `103 execve("/usr/bin/node", ["node", "/usr/bin/npm", "test"], 0x18 /* 31 vars */) = 0`,
    `103 openat(AT_FDCWD, "${home}/.npmrc", O_RDONLY) = 3`,
    `103 vfork() = 104`,
    `104 execve("/bin/sh", ["sh", "-c", "cat ~/.npmrc"], 0x18 /* 31 vars */) = 0`,
    `104 openat(AT_FDCWD, "${home}/.npmrc", O_RDONLY) = 3`,
    // a container's processes name the container's files
    `100 clone(child_stack=NULL, flags=SIGCHLD) = 105`,
    `105 execve("/usr/bin/containerd-shim-runc-v2", ["containerd-shim-runc-v2", "-namespace", "k8s.io"], 0x18 /* 9 vars */) = 0`,
    `105 openat(AT_FDCWD, "/www/index.html", O_RDONLY) = 3`,
    // a container's init clones inside its PID namespace: the pid clone returns is not the tracer's, so the
    // child (traced as 5020) is named by no clone, and what it opens is the container's
    `100 clone(child_stack=NULL, flags=SIGCHLD) = 106`,
    `106 execve("/bin/sh", ["sh"], 0x18 /* 5 vars */) = 0`,
    `106 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x28) = 8`,
    `5020 execve("/proc/self/exe", ["cat", "/scratch/f"], 0x28 /* 5 vars */) = 0`,
    `5020 openat(AT_FDCWD, "/scratch/f", O_RDONLY) = 3`,
  ]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /hermetic check FAILED: 3 path\(s\)/);
  assert.ok(r.out.includes(`  ${other}/README.md (read: another checkout of this project (${other})) by test/a.test.ts`), r.out);
  assert.ok(r.out.includes(`  ${home}/.kube/config (read: a home directory) by test/a.test.ts`), r.out);
  assert.ok(r.out.includes(`  ${home}/.npmrc (read: a home directory) by sh -c cat ~/.npmrc`), r.out);
  assert.match(
    r.out,
    /note: 1 install path\(s\) of this project looked for and absent on this host.*\n {2}\/etc\/kubeedge\/bootstrap-edgecore\.conf by test\/a\.test\.ts/,
  );
  assert.doesNotMatch(r.out, /\/www\/index\.html|\/scratch\/f|dist\/edgecore\.mjs|src\/core\/bus\.ts/);
});

test('a trace with nothing in it fails: the run was not traced', () => {
  const r = check(['']);
  assert.equal(r.code, 1);
  assert.match(r.out, /holds no traced calls/);
});
