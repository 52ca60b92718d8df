import type { Logger } from '../../../core/log.ts';
import type { Module } from '../../../core/module.ts';
import { isAlreadyExists, isConflict, isNotFound, type KubeObject, type KubeRest } from '../../../kube/rest.ts';
import type { InformerView } from '../../common/informers/informers.ts';
import type { ControllerDeps } from '../index.ts';
import { Controller, type ReconcileResult } from '../kit/controller.ts';
import { EventRecorder } from '../kit/events.ts';
import {
  controllerRef,
  controllerRefOf,
  isBeingDeleted,
  labelsOf,
  namespaceOf,
  nameOf,
  ownerKeysConcerned,
  ownerRefsOf,
  podPhase,
  resourcePath,
  selectorMatches,
  splitKey,
  uidOf,
} from '../kit/objects.ts';
import { rsReplicas, rsSpec, rsStatus } from '../replicaset/controller.ts';
import { cleanupUnhealthy, maxScaledDown, newRSReplicas, proportionalSizes, scaleDownOld } from './scaling.ts';
import { equalIgnoreHash, POD_TEMPLATE_HASH, podTemplateHash } from './template.ts';
import {
  byCreation,
  condition,
  DESIRED_REPLICAS,
  type DeploymentSpec,
  type DeploymentStatus,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  generationOf,
  getCondition,
  intAnnotation,
  maxSurge,
  maxUnavailable,
  REVISION,
  removeCondition,
  revisionOf,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specOf,
  statusOf,
  sumAvailable,
  sumReady,
  sumStatus,
} from './util.ts';

const rsPath = (ns: string, name?: string): string => resourcePath('apps/v1', 'replicasets', ns, name);
const deployPath = (ns: string, name: string): string => resourcePath('apps/v1', 'deployments', ns, name);

/** One sync's view: the Deployment as last written (each write returns the newer object). */
type Sync = { d: KubeObject; spec: DeploymentSpec };

/**
 * The Deployment controller: one ReplicaSet per pod template (`<name>-<pod-template-hash>`), rolled from old to
 * new by RollingUpdate (maxSurge/maxUnavailable) or Recreate, with revisions, history cleanup, pause, scaling
 * and the Available/Progressing conditions `kubectl rollout status` reads.
 */
export class DeploymentController {
  readonly module: Module;
  readonly #kube: KubeRest;
  readonly #deploys: InformerView;
  readonly #rs: InformerView;
  readonly #pods: InformerView;
  readonly #log: Logger;
  readonly #events: EventRecorder;

  constructor(d: ControllerDeps) {
    this.#kube = d.kube;
    this.#log = d.log('deployment-controller');
    this.#events = new EventRecorder(d.kube, 'deployment-controller', this.#log);
    this.#deploys = d.informers.informer({ path: '/apis/apps/v1/deployments', kind: 'Deployment', apiVersion: 'apps/v1' });
    this.#rs = d.informers.informer({ path: '/apis/apps/v1/replicasets', kind: 'ReplicaSet', apiVersion: 'apps/v1' });
    this.#pods = d.informers.pods;
    this.module = new Controller({
      name: 'deployment',
      informers: d.informers,
      log: this.#log,
      watches: [
        { informer: this.#deploys },
        { informer: this.#rs, keys: (rs, _t, old) => this.#rsKeys(rs, old) },
        // Recreate waits for old pods to be gone: a pod's deletion wakes its Deployment.
        { informer: this.#pods, keys: (pod, type) => (type === 'delete' ? this.#podKeys(pod) : []) },
      ],
      reconcile: (key) => this.#reconcile(key),
      workers: 3,
    });
  }

  #rsKeys(rs: KubeObject, old: KubeObject | undefined): string[] {
    return ownerKeysConcerned('Deployment', this.#deploys.list(), (d) => specOf(d).selector, rs, old);
  }

  #podKeys(pod: KubeObject): string[] {
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'ReplicaSet') return [];
    const rs = this.#rs.get(namespaceOf(pod), ref.name);
    const dref = rs === undefined ? undefined : controllerRefOf(rs);
    return dref?.kind === 'Deployment' ? [`${namespaceOf(pod)}/${dref.name}`] : [];
  }

  async #reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.#deploys.get(namespace, name);
    if (cached === undefined) return undefined;
    const s: Sync = { d: structuredClone(cached), spec: specOf(cached) };
    const selector = s.spec.selector;
    if (selector === undefined || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
      // An empty selector would select every pod in the namespace: Kubernetes refuses to act on it.
      if (generationOf(s.d) !== statusOf(s.d).observedGeneration) {
        this.#events.event(s.d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
        await this.#writeStatus(s, { ...statusOf(s.d), observedGeneration: generationOf(s.d) });
      }
      return undefined;
    }
    const rsList = await this.#claimReplicaSets(s);
    if (isBeingDeleted(s.d)) {
      await this.#syncStatusOnly(s, rsList);
      return undefined;
    }
    await this.#checkPaused(s);
    if (s.spec.paused) {
      await this.#sync(s, rsList);
      return undefined;
    }
    if (this.#isScalingEvent(s, rsList)) {
      await this.#sync(s, rsList);
      return undefined;
    }
    return s.spec.strategy === 'Recreate' ? this.#rolloutRecreate(s, rsList) : this.#rolloutRolling(s, rsList);
  }

  /** The ReplicaSets this Deployment controls after adopting matching orphans and releasing the ones that no longer match. */
  async #claimReplicaSets(s: Sync): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const rs of this.#rs.list()) {
      if (namespaceOf(rs) !== namespaceOf(s.d)) continue;
      const ref = controllerRefOf(rs);
      const matches = selectorMatches(s.spec.selector, labelsOf(rs));
      if (ref !== undefined) {
        if (ref.uid !== uidOf(s.d)) continue;
        if (matches || isBeingDeleted(s.d)) {
          out.push(structuredClone(rs));
          continue;
        }
        const refs = ownerRefsOf(rs).filter((r) => r.uid !== uidOf(s.d));
        await this.#patchOwners(rs, refs.length === 0 ? null : refs);
        continue;
      }
      if (!matches || isBeingDeleted(s.d) || isBeingDeleted(rs)) continue;
      const adopted = await this.#patchOwners(rs, [...ownerRefsOf(rs), controllerRef(s.d)]);
      if (adopted !== undefined) out.push(adopted);
    }
    return out;
  }

  async #patchOwners(rs: KubeObject, refs: unknown): Promise<KubeObject | undefined> {
    try {
      return await this.#kube.patch(
        rsPath(namespaceOf(rs), nameOf(rs)),
        { metadata: { uid: uidOf(rs), resourceVersion: rs.metadata?.resourceVersion, ownerReferences: refs } },
        'merge',
      );
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return undefined;
      throw err;
    }
  }

  /** The oldest ReplicaSet whose template is the Deployment's (Kubernetes' FindNewReplicaSet), and the others. */
  #split(s: Sync, rsList: KubeObject[]): { newRS: KubeObject | undefined; old: KubeObject[] } {
    const sorted = [...rsList].sort(byCreation);
    const newRS = sorted.find((rs) => equalIgnoreHash((rs['spec'] as { template?: unknown }).template, s.spec.template));
    return { newRS, old: sorted.filter((rs) => rs !== newRS) };
  }

  /**
   * The new ReplicaSet (created when `create` and missing) with its revision annotations brought up to date, and
   * the Deployment's revision annotation set to it.
   */
  async #newAndOld(s: Sync, rsList: KubeObject[], create: boolean): Promise<{ newRS: KubeObject | undefined; old: KubeObject[] }> {
    const { newRS: existing, old } = this.#split(s, rsList);
    const maxOld = old.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    const newRevision = maxOld + 1;
    if (existing !== undefined) {
      let rs = existing;
      const copy = structuredClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(s.d, copy, newRevision, true);
      const minReadyChanged = (rsSpec(copy).minReadySeconds ?? 0) !== s.spec.minReadySeconds;
      if (annotationsChanged || minReadyChanged) {
        const spec = copy['spec'] as Record<string, unknown>;
        if (s.spec.minReadySeconds === 0) delete spec['minReadySeconds'];
        else spec['minReadySeconds'] = s.spec.minReadySeconds;
        rs = await this.#kube.replace(rsPath(namespaceOf(copy), nameOf(copy)), copy);
      }
      await this.#setDeploymentRevision(s, String(revisionOf(rs)));
      if (s.spec.progressDeadlineSeconds !== undefined && getCondition(statusOf(s.d), 'Progressing') === undefined) {
        const st = structuredClone(statusOf(s.d));
        setCondition(st, condition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${nameOf(rs)}"`));
        await this.#writeStatus(s, st);
      }
      return { newRS: rs, old };
    }
    if (!create) return { newRS: undefined, old };
    return { newRS: await this.#createNewRS(s, old, newRevision), old };
  }

  async #createNewRS(s: Sync, old: KubeObject[], newRevision: number): Promise<KubeObject> {
    const collisionCount = statusOf(s.d).collisionCount;
    const hash = podTemplateHash(s.spec.template, collisionCount);
    const template = structuredClone(s.spec.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
    const selector = structuredClone(s.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const name = `${nameOf(s.d)}-${hash}`;
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: namespaceOf(s.d), labels: { ...(template.metadata.labels ?? {}) }, ownerReferences: [controllerRef(s.d)] },
      spec: { replicas: 0, ...(s.spec.minReadySeconds === 0 ? {} : { minReadySeconds: s.spec.minReadySeconds }), selector, template },
    };
    const replicas = newRSReplicas(s.spec, [...old], rs);
    (rs['spec'] as Record<string, unknown>)['replicas'] = replicas;
    setNewReplicaSetAnnotations(s.d, rs, newRevision, false);
    let created: KubeObject;
    let alreadyExisted = false;
    try {
      created = await this.#kube.create(rsPath(namespaceOf(s.d)), rs);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        const st = structuredClone(statusOf(s.d));
        setCondition(st, condition('Progressing', 'False', 'ReplicaSetCreateError', `Failed to create new replica set "${name}": ${String(err)}`));
        this.#events.event(s.d, 'Warning', 'ReplicaSetCreateError', `Failed to create new replica set "${name}": ${String(err)}`);
        await this.#writeStatus(s, st);
        throw err;
      }
      // Ours from a sync the cache has not caught up with, or an unrelated one with our name (a hash collision).
      const found = await this.#kube.get(rsPath(namespaceOf(s.d), name));
      if (controllerRefOf(found)?.uid === uidOf(s.d) && equalIgnoreHash((found['spec'] as { template?: unknown }).template, s.spec.template)) {
        created = found;
        alreadyExisted = true;
      } else {
        const st = structuredClone(statusOf(s.d));
        st.collisionCount = (st.collisionCount ?? 0) + 1;
        await this.#writeStatus(s, st);
        throw err;
      }
    }
    if (!alreadyExisted && replicas > 0) {
      this.#events.event(s.d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    }
    await this.#setDeploymentRevision(s, String(newRevision));
    if (!alreadyExisted && s.spec.progressDeadlineSeconds !== undefined) {
      const st = structuredClone(statusOf(s.d));
      setCondition(st, condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`));
      await this.#writeStatus(s, st);
    }
    return created;
  }

  /** The Deployment carries the revision of its new ReplicaSet (what `kubectl rollout history` numbers). */
  async #setDeploymentRevision(s: Sync, revision: string): Promise<void> {
    const ann = (s.d.metadata?.['annotations'] as Record<string, string> | undefined) ?? {};
    if (ann[REVISION] === revision) return;
    s.d = await this.#kube.patch(
      deployPath(namespaceOf(s.d), nameOf(s.d)),
      { metadata: { resourceVersion: s.d.metadata?.resourceVersion, annotations: { [REVISION]: revision } } },
      'merge',
    );
  }

  async #checkPaused(s: Sync): Promise<void> {
    const st = structuredClone(statusOf(s.d));
    const cond = getCondition(st, 'Progressing');
    const pausedReason = cond?.reason === 'DeploymentPaused';
    if (s.spec.paused && !pausedReason) setCondition(st, condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
    else if (!s.spec.paused && pausedReason) setCondition(st, condition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
    else return;
    await this.#writeStatus(s, st);
  }

  /** Replicas changed while the ReplicaSets still record another count: a scale, not a rollout. */
  #isScalingEvent(s: Sync, rsList: KubeObject[]): boolean {
    for (const rs of rsList) {
      if (rsReplicas(rs) === 0) continue;
      const desired = intAnnotation(rs, DESIRED_REPLICAS);
      if (desired !== undefined && desired !== s.spec.replicas) return true;
    }
    return false;
  }

  /** Scaling and history cleanup without rolling (paused, or a scaling event). */
  async #sync(s: Sync, rsList: KubeObject[]): Promise<void> {
    const { newRS, old } = await this.#newAndOld(s, rsList, false);
    const [n, o] = await this.#scale(s, newRS, old);
    if (s.spec.paused) await this.#cleanup(s, o);
    await this.#syncStatus(s, n === undefined ? o : [...o, n], n);
  }

  async #scale(s: Sync, newRS: KubeObject | undefined, old: KubeObject[]): Promise<[KubeObject | undefined, KubeObject[]]> {
    const all = newRS === undefined ? old : [newRS, ...old];
    const active = all.filter((rs) => rsReplicas(rs) > 0);
    let target: KubeObject | undefined;
    if (active.length === 1) target = active[0];
    else if (active.length === 0) target = newRS ?? [...old].sort(byCreation).at(-1);
    if (target !== undefined) {
      if (rsReplicas(target) === s.spec.replicas) return [newRS, old];
      const scaled = await this.#scaleRS(s, target, s.spec.replicas);
      return replaceIn(newRS, old, target, scaled);
    }
    if (newRS !== undefined && saturated(s, newRS)) {
      let o = old;
      for (const rs of old) {
        if (rsReplicas(rs) === 0) continue;
        const scaled = await this.#scaleRS(s, rs, 0);
        o = o.map((x) => (x === rs ? scaled : x));
      }
      return [newRS, o];
    }
    if (s.spec.strategy !== 'RollingUpdate') return [newRS, old];
    const sizes = proportionalSizes(s.spec, active, statusOf(s.d).replicas ?? 0);
    let n = newRS;
    let o = old;
    for (const [rs, size] of sizes) {
      const scaled = await this.#scaleRS(s, rs, size);
      [n, o] = replaceIn(n, o, rs, scaled);
    }
    return [n, o];
  }

  /** Sets a ReplicaSet's size (and replica annotations) and records the ScalingReplicaSet event. */
  async #scaleRS(s: Sync, rs: KubeObject, size: number): Promise<KubeObject> {
    const old = rsReplicas(rs);
    const copy = structuredClone(rs);
    const annChanged = setReplicasAnnotations(copy, s.spec.replicas, s.spec.replicas + maxSurge(s.spec));
    if (old === size && !annChanged) return rs;
    (copy['spec'] as Record<string, unknown>)['replicas'] = size;
    const out = await this.#kube.replace(rsPath(namespaceOf(rs), nameOf(rs)), copy);
    if (old !== size) {
      this.#events.event(s.d, 'Normal', 'ScalingReplicaSet', `Scaled ${old < size ? 'up' : 'down'} replica set ${nameOf(rs)} from ${old} to ${size}`);
    }
    return out;
  }

  async #rolloutRolling(s: Sync, rsList: KubeObject[]): Promise<ReconcileResult> {
    const { newRS, old } = await this.#newAndOld(s, rsList, true);
    if (newRS === undefined) return undefined;
    let n = newRS;
    let o = old;
    // Scale the new ReplicaSet up as far as maxSurge allows.
    if (rsReplicas(n) !== s.spec.replicas) {
      const want = rsReplicas(n) > s.spec.replicas ? s.spec.replicas : newRSReplicas(s.spec, [n, ...o], n);
      if (want !== rsReplicas(n)) {
        n = await this.#scaleRS(s, n, want);
        return this.#syncRolloutStatus(s, [n, ...o], n);
      }
    }
    // Then old ones down as far as maxUnavailable allows: unhealthy pods first, then available ones.
    const activeOld = o.filter((rs) => rsReplicas(rs) > 0);
    if (activeOld.length > 0) {
      const max = maxScaledDown(s.spec, [n, ...o], n);
      if (max > 0) {
        let scaled = false;
        for (const [rs, size] of cleanupUnhealthy(activeOld, max)) {
          const r = await this.#scaleRS(s, rs, size);
          o = o.map((x) => (x === rs ? r : x));
          scaled = true;
        }
        const stillActive = o.filter((rs) => rsReplicas(rs) > 0);
        for (const [rs, size] of scaleDownOld(s.spec, [n, ...o], stillActive)) {
          const r = await this.#scaleRS(s, rs, size);
          o = o.map((x) => (x === rs ? r : x));
          scaled = true;
        }
        if (scaled) return this.#syncRolloutStatus(s, [n, ...o], n);
      }
    }
    if (deploymentComplete(s.d, statusOf(s.d))) await this.#cleanup(s, o);
    return this.#syncRolloutStatus(s, [n, ...o], n);
  }

  async #rolloutRecreate(s: Sync, rsList: KubeObject[]): Promise<ReconcileResult> {
    let { newRS, old } = await this.#newAndOld(s, rsList, false);
    let scaledDown = false;
    for (const rs of old) {
      if (rsReplicas(rs) === 0) continue;
      const r = await this.#scaleRS(s, rs, 0);
      old = old.map((x) => (x === rs ? r : x));
      scaledDown = true;
    }
    const all = (): KubeObject[] => (newRS === undefined ? old : [newRS, ...old]);
    if (scaledDown || this.#oldPodsRunning(newRS, old)) return this.#syncRolloutStatus(s, all(), newRS);
    if (newRS === undefined) ({ newRS, old } = await this.#newAndOld(s, rsList, true));
    if (newRS !== undefined && rsReplicas(newRS) !== s.spec.replicas) newRS = await this.#scaleRS(s, newRS, s.spec.replicas);
    if (deploymentComplete(s.d, statusOf(s.d))) await this.#cleanup(s, old);
    return this.#syncRolloutStatus(s, all(), newRS);
  }

  /** Whether any pod of an old ReplicaSet still exists and has not finished (Recreate waits for them all). */
  #oldPodsRunning(newRS: KubeObject | undefined, old: KubeObject[]): boolean {
    if (sumStatus(old) > 0) return true;
    const oldUids = new Set(old.map(uidOf));
    for (const pod of this.#pods.list()) {
      const ref = controllerRefOf(pod);
      if (ref === undefined || !oldUids.has(ref.uid) || (newRS !== undefined && ref.uid === uidOf(newRS))) continue;
      const phase = podPhase(pod);
      if (phase !== 'Failed' && phase !== 'Succeeded') return true;
    }
    return false;
  }

  /** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  async #cleanup(s: Sync, old: KubeObject[]): Promise<void> {
    const alive = old.filter((rs) => !isBeingDeleted(rs));
    const diff = alive.length - s.spec.revisionHistoryLimit;
    if (diff <= 0) return;
    const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of sorted.slice(0, diff)) {
      const st = rsStatus(rs);
      if ((st.replicas ?? 0) !== 0 || rsReplicas(rs) !== 0 || generationOf(rs) > (st.observedGeneration ?? 0)) continue;
      try {
        await this.#kube.delete(rsPath(namespaceOf(rs), nameOf(rs)), { preconditions: { uid: uidOf(rs) } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  #calculateStatus(s: Sync, all: KubeObject[], newRS: KubeObject | undefined): DeploymentStatus {
    const available = sumAvailable(all);
    const total = sumStatus(all);
    const prev = statusOf(s.d);
    // Zero counts are left out, as Kubernetes' omitempty fields are.
    const counts: Array<[keyof DeploymentStatus, number]> = [
      ['observedGeneration', generationOf(s.d)],
      ['replicas', total],
      ['updatedReplicas', newRS === undefined ? 0 : (rsStatus(newRS).replicas ?? 0)],
      ['readyReplicas', sumReady(all)],
      ['availableReplicas', available],
      ['unavailableReplicas', Math.max(0, total - available)],
    ];
    const st: DeploymentStatus = {
      ...Object.fromEntries(counts.filter(([, n]) => n !== 0)),
      ...(prev.conditions === undefined ? {} : { conditions: structuredClone(prev.conditions) }),
      ...(prev.collisionCount === undefined ? {} : { collisionCount: prev.collisionCount }),
    };
    if (available >= s.spec.replicas - maxUnavailable(s.spec)) {
      setCondition(st, condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'));
    } else {
      setCondition(st, condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
    }
    return st;
  }

  async #syncStatusOnly(s: Sync, rsList: KubeObject[]): Promise<void> {
    const { newRS, old } = await this.#newAndOld(s, rsList, false);
    await this.#syncStatus(s, newRS === undefined ? old : [newRS, ...old], newRS);
  }

  async #syncStatus(s: Sync, all: KubeObject[], newRS: KubeObject | undefined): Promise<void> {
    await this.#writeStatus(s, this.#calculateStatus(s, all, newRS));
  }

  /** Status plus the Progressing condition against the progress deadline; asks to look again at the deadline. */
  async #syncRolloutStatus(s: Sync, all: KubeObject[], newRS: KubeObject | undefined): Promise<ReconcileResult> {
    const st = this.#calculateStatus(s, all, newRS);
    const pds = s.spec.progressDeadlineSeconds;
    if (pds === undefined) removeCondition(st, 'Progressing');
    const cur = getCondition(st, 'Progressing');
    const complete = st.replicas === st.updatedReplicas && cur?.reason === 'NewReplicaSetAvailable';
    if (pds !== undefined && !complete) {
      const what = newRS === undefined ? `Deployment "${nameOf(s.d)}"` : `ReplicaSet "${nameOf(newRS)}"`;
      if (deploymentComplete(s.d, st)) {
        setCondition(st, condition('Progressing', 'True', 'NewReplicaSetAvailable', `${what} has successfully progressed.`));
      } else if (deploymentProgressing(s.d, st)) {
        const c = condition('Progressing', 'True', 'ReplicaSetUpdated', `${what} is progressing.`);
        if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
        // Progress moves the deadline: lastUpdateTime is always renewed, so this replaces, never merges.
        removeCondition(st, 'Progressing');
        setCondition(st, c);
      } else if (deploymentTimedOut(s.d, st)) {
        setCondition(st, condition('Progressing', 'False', 'ProgressDeadlineExceeded', `${what} has timed out progressing.`));
      }
    }
    const failure = all.map((rs) => rsStatus(rs).conditions?.find((c) => c['type'] === 'ReplicaFailure')).find((c) => c !== undefined);
    if (failure !== undefined) {
      setCondition(st, {
        type: 'ReplicaFailure',
        status: failure['status'] as 'True',
        reason: String(failure['reason'] ?? ''),
        message: String(failure['message'] ?? ''),
        lastTransitionTime: String(failure['lastTransitionTime'] ?? ''),
        lastUpdateTime: String(failure['lastTransitionTime'] ?? ''),
      });
    } else removeCondition(st, 'ReplicaFailure');
    const changed = await this.#writeStatus(s, st);
    if (changed) return undefined;
    return this.#stuckRecheck(s, st);
  }

  /** A rollout that stops moving is looked at again when its progress deadline passes. */
  #stuckRecheck(s: Sync, st: DeploymentStatus): ReconcileResult {
    const pds = s.spec.progressDeadlineSeconds;
    const cur = getCondition(st, 'Progressing');
    if (pds === undefined || cur === undefined || deploymentComplete(s.d, st) || cur.reason === 'ProgressDeadlineExceeded') return undefined;
    const after = Date.parse(cur.lastUpdateTime) + pds * 1000 - Date.now();
    return { requeueAfterMs: Math.max(1000, after + 1000) };
  }

  /** Writes status if it differs from the Deployment's; returns whether it did. */
  async #writeStatus(s: Sync, st: DeploymentStatus): Promise<boolean> {
    if (JSON.stringify(st) === JSON.stringify(statusOf(s.d))) return false;
    s.d = await this.#kube.replace(`${deployPath(namespaceOf(s.d), nameOf(s.d))}/status`, { ...s.d, status: st });
    return true;
  }
}

function saturated(s: Sync, rs: KubeObject): boolean {
  return (
    rsReplicas(rs) === s.spec.replicas && intAnnotation(rs, DESIRED_REPLICAS) === s.spec.replicas && (rsStatus(rs).availableReplicas ?? 0) === s.spec.replicas
  );
}

function replaceIn(newRS: KubeObject | undefined, old: KubeObject[], from: KubeObject, to: KubeObject): [KubeObject | undefined, KubeObject[]] {
  if (newRS === from) return [to, old];
  return [newRS, old.map((x) => (x === from ? to : x))];
}
