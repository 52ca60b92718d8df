/**
 * V8 flags cloudcore runs with: the image's ENTRYPOINT (build/cloud/Dockerfile, kept equal by node-flags.test.ts;
 * keadm's cloudcore container uses that ENTRYPOINT) and the benchmarks (bench/lib/cloud.ts). docs/performance.md
 * has the measurements.
 *
 * - `--max-semi-space-size=8`: V8's default young generation grows to 2 x 64 MiB under the join storm and keeps it.
 *   edgemark, 1000 edges, same machine: cloudcore RSS 443 MiB / 17.5 % idle without the flag, 363 MiB / 11.3 %
 *   with 8 MiB, 382 MiB / 14.5 % with 2 MiB (more scavenges).
 * - `--max-old-space-size=4096`: Node derives its default heap limit from the host's RAM (4288 MiB on a 24 GiB
 *   machine, about half that on a 4 GiB one), and an earlier cloudcore ran out of heap near 9,300 edges. A fixed
 *   limit near the 4 GiB that pointer compression allows makes the limit the same on every host.
 */
export const CLOUDCORE_SEMI_SPACE_MIB = 8;
export const CLOUDCORE_OLD_SPACE_MIB = 4096;

export const CLOUDCORE_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${CLOUDCORE_SEMI_SPACE_MIB}`, `--max-old-space-size=${CLOUDCORE_OLD_SPACE_MIB}`];
