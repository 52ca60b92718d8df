import type { KubeObject } from '../../../kube/rest.ts';
import { nodeMatchesPod, preferredNodeAffinityScore } from './affinity.ts';
import { hasPodAffinityRules, interPodAffinityReason, preferredPodAffinityScore, type Placed } from './podaffinity.ts';
import { hostPortsOf, portsConflict, type HostPort } from './ports.ts';
import { nodeAllocatable, podRequests, podRequestsForScore, type Resources } from './resources.ts';
import { effectiveTaints, TAINT_UNSCHEDULABLE, toleratedBy, tolerationsOf } from './taints.ts';

/** A node and what is on it: bound (and assumed) pods that still hold resources, their requests and ports. */
export type NodeInfo = {
  node: KubeObject;
  pods: KubeObject[];
  requested: Resources;
  /** Requests as scoring counts them (non-zero defaults for containers that ask for nothing). */
  scoreRequested: { cpu: number; memory: number };
  ports: HostPort[];
};

/** What every node's check needs about the pod, computed once per scheduling attempt. */
export type PodFacts = {
  pod: KubeObject;
  requests: Resources;
  forScore: { cpu: number; memory: number };
  ports: HostPort[];
  /** Every bound pod with its node, when the pod or any bound pod has pod (anti-)affinity; else []. */
  placed: Placed[];
  checkInterPod: boolean;
};

/** `anyAffinity`: whether some bound pod has pod (anti-)affinity rules (else their placement is not gathered). */
export function podFacts(pod: KubeObject, nodes: NodeInfo[], anyAffinity = true): PodFacts {
  const checkInterPod = anyAffinity || hasPodAffinityRules(pod);
  const placed: Placed[] = [];
  if (checkInterPod) for (const n of nodes) for (const p of n.pods) placed.push({ pod: p, node: n.node });
  return { pod, requests: podRequests(pod), forScore: podRequestsForScore(pod), ports: hostPortsOf(pod), placed, checkInterPod };
}

/**
 * kube-scheduler's filter plugins in their order (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts,
 * NodeResourcesFit, InterPodAffinity): the reasons of the first that rejects the node, worded as it words them;
 * [] when the pod fits.
 */
export function filterNode(f: PodFacts, n: NodeInfo): string[] {
  const tolerations = tolerationsOf(f.pod);
  const spec = (n.node['spec'] as { unschedulable?: boolean } | undefined) ?? {};
  if (spec.unschedulable === true && toleratedBy(tolerations, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }) === undefined) {
    return ['node(s) were unschedulable'];
  }
  for (const t of effectiveTaints(n.node)) {
    if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
    if (toleratedBy(tolerations, t) === undefined) return [`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`];
  }
  if (!nodeMatchesPod(f.pod, n.node)) return ["node(s) didn't match Pod's node affinity/selector"];
  if (f.ports.length > 0 && portsConflict(f.ports, n.ports)) return ["node(s) didn't have free ports for the requested pod ports"];
  const fit = resourceReasons(f.requests, n);
  if (fit.length > 0) return fit;
  if (f.checkInterPod) {
    const r = interPodAffinityReason(f.pod, n.node, f.placed);
    if (r !== undefined) return [r];
  }
  return [];
}

function resourceReasons(req: Resources, n: NodeInfo): string[] {
  const alloc = nodeAllocatable(n.node);
  const out: string[] = [];
  if (n.pods.length + 1 > alloc.pods) out.push('Too many pods');
  if (req.cpu > 0 && req.cpu > alloc.cpu - n.requested.cpu) out.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - n.requested.memory) out.push('Insufficient memory');
  if (req.ephemeral > 0 && req.ephemeral > alloc.ephemeral - n.requested.ephemeral) out.push('Insufficient ephemeral-storage');
  for (const [k, v] of Object.entries(req.scalar)) {
    if (v > 0 && v > (alloc.scalar[k] ?? 0) - (n.requested.scalar[k] ?? 0)) out.push(`Insufficient ${k}`);
  }
  return out;
}

/**
 * kube-scheduler's message for a pod no node fits: each reason with the number of nodes it rejected, sorted
 * as it sorts them, and (this scheduler does not preempt) the preemption verdict.
 */
export function fitErrorMessage(total: number, reasons: string[][]): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const counts = new Map<string, number>();
  for (const rs of reasons) for (const r of rs) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([r, c]) => `${c} ${r}`).sort();
  return `0/${total} nodes are available: ${parts.join(', ')}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
}

/** Weights of kube-scheduler's default score plugins. */
const WEIGHTS = { taint: 3, nodeAffinity: 2, interPod: 2, leastAllocated: 1, balanced: 1 };

/** Scores of the feasible nodes (same order), 0..100 per plugin times its weight, as kube-scheduler sums them. */
export function scoreNodes(f: PodFacts, nodes: NodeInfo[]): number[] {
  const tolerations = tolerationsOf(f.pod);
  const taintCounts = nodes.map(
    (n) => effectiveTaints(n.node).filter((t) => t.effect === 'PreferNoSchedule' && toleratedBy(tolerations, t) === undefined).length,
  );
  const affinity = nodes.map((n) => preferredNodeAffinityScore(f.pod, n.node));
  const interPod = nodes.map((n) => (f.checkInterPod ? preferredPodAffinityScore(f.pod, n.node, f.placed) : 0));
  const taintN = normalize(taintCounts, true);
  const affN = normalize(affinity, false);
  const ipMin = Math.min(...interPod);
  const ipMax = Math.max(...interPod);
  return nodes.map((n, i) => {
    const alloc = nodeAllocatable(n.node);
    const cpuFrac = fraction(n.scoreRequested.cpu + f.forScore.cpu, alloc.cpu);
    const memFrac = fraction(n.scoreRequested.memory + f.forScore.memory, alloc.memory);
    const least = ((1 - cpuFrac) * 100 + (1 - memFrac) * 100) / 2;
    const balanced = (1 - Math.abs(cpuFrac - memFrac) / 2) * 100;
    const ip = ipMax > ipMin ? ((interPod[i] ?? 0) - ipMin) * (100 / (ipMax - ipMin)) : 0;
    return (
      WEIGHTS.taint * (taintN[i] ?? 0) +
      WEIGHTS.nodeAffinity * (affN[i] ?? 0) +
      WEIGHTS.interPod * ip +
      WEIGHTS.leastAllocated * Math.floor(least) +
      WEIGHTS.balanced * Math.floor(balanced)
    );
  });
}

function fraction(requested: number, allocatable: number): number {
  if (allocatable <= 0) return 1;
  return Math.min(requested / allocatable, 1);
}

/** kube-scheduler's default normalisation: scaled so the largest is 100 (reversed: the largest is 0). */
function normalize(scores: number[], reverse: boolean): number[] {
  const max = Math.max(0, ...scores);
  if (max === 0) return scores.map(() => (reverse ? 100 : 0));
  return scores.map((s) => {
    const v = Math.floor((s * 100) / max);
    return reverse ? 100 - v : v;
  });
}

/** The best-scoring node; equal best scores are broken at random, as kube-scheduler does. */
export function pickNode(scores: number[], random: () => number = Math.random): number {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] ?? 0;
    if (s > bestScore) {
      best = i;
      bestScore = s;
      ties = 1;
    } else if (s === bestScore) {
      ties++;
      if (random() * ties < 1) best = i; // reservoir sampling: each tied node equally likely
    }
  }
  return best;
}
