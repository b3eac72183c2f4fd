import type { FaceLabels, FileStatus } from '../core/types.js';
import { connectedComponents } from './clusters.js';
import { findNearPairs, hashTableFromHex, type NearPair } from './hamming-index.js';
import { formatLabels, sameLabels } from './labels.js';

export const DEDUP_POLICIES = Object.freeze(['keep-one', 'drop-all'] as const);
export type DedupPolicy = (typeof DEDUP_POLICIES)[number];

/** A readable image as dedup sees it. Items must be in a stable order (first occurrence wins). */
export interface DedupItem {
  source: string;
  sha256: string;
  phash: string;
  /** null when the name's labels are missing or invalid. */
  labels: FaceLabels | null;
}

export interface DedupDecision {
  status: Extract<FileStatus, 'kept' | 'duplicate-exact' | 'duplicate-near' | 'conflict' | 'flagged-near' | 'invalid-label'>;
  reason: string;
  /** Cluster id (index into `clusters`) for members of multi-file clusters, else null. */
  cluster: number | null;
  duplicateOf: string | null;
}

export interface ClusterReport {
  id: number;
  members: string[];
  /** Closest near pair inside the cluster, for showing examples (null for exact-only clusters). */
  example: { a: string; b: string; distance: number } | null;
  outcome: 'kept-one' | 'dropped-conflict' | 'dropped-all' | 'invalid-labels';
  reason: string;
}

export interface DedupResult {
  decisions: DedupDecision[];
  exactUnique: number;
  /** Near pairs among exact-unique images (distance ≤ threshold). */
  nearPairs: number;
  /** Exact-unique images that have at least one near twin. */
  flagged: number;
  clusters: ClusterReport[];
}

/** Exact groups: each item's representative (its first byte-identical occurrence) and the exact-unique items. */
interface ExactGroups {
  /** Index of each item's representative (itself for first occurrences). */
  rep: Int32Array;
  /** Indices of the first occurrences, in order. */
  unique: number[];
}

/** Step 1: exact groups by SHA-256; the first occurrence represents its group. */
function exactGroups(items: readonly DedupItem[]): ExactGroups {
  const firstBySha = new Map<string, number>();
  const rep = new Int32Array(items.length);
  const unique: number[] = [];
  items.forEach((item, i) => {
    const first = firstBySha.get(item.sha256);
    if (first === undefined) {
      firstBySha.set(item.sha256, i);
      rep[i] = i;
      unique.push(i);
    } else {
      rep[i] = first;
    }
  });
  return { rep, unique };
}

/** Step 2: near pairs among the exact-unique images (indices into `unique`), and how many images have one. */
function nearPairsOf(items: readonly DedupItem[], unique: readonly number[], threshold: number): { pairs: NearPair[]; flagged: number } {
  const table = hashTableFromHex(unique.map((i) => items[i]!.phash));
  const pairs: NearPair[] = findNearPairs(table, threshold);
  const flaggedUnique = new Uint8Array(unique.length);
  for (const p of pairs) flaggedUnique[p.a] = flaggedUnique[p.b] = 1;
  return { pairs, flagged: flaggedUnique.reduce((sum, f) => sum + f, 0) };
}

/** A connected component of exact + near links, as the policies see it. */
interface Cluster {
  /** Item indices, ascending (exact copies included). */
  members: number[];
  /** Whether it holds a near link (more than one exact-unique image). */
  hasNear: boolean;
  /** Its closest near pair, as sources. */
  example: ClusterReport['example'];
}

/** Step 3: clusters over the unique images (connected components of near pairs); exact copies join their representative's. */
function clustersOf(items: readonly DedupItem[], groups: ExactGroups, pairs: readonly NearPair[]): Cluster[] {
  const { rep, unique } = groups;
  const components = connectedComponents(unique.length, pairs);
  const membersOfUnique = new Map<number, number[]>();
  items.forEach((_, i) => {
    const list = membersOfUnique.get(rep[i]!);
    if (list) list.push(i);
    else membersOfUnique.set(rep[i]!, [i]);
  });
  const componentOfUnique = new Int32Array(unique.length);
  components.forEach((component, c) => component.forEach((u) => (componentOfUnique[u] = c)));
  const bestPairOf = new Map<number, NearPair>();
  for (const p of pairs) {
    const c = componentOfUnique[p.a]!;
    const best = bestPairOf.get(c);
    if (!best || p.distance < best.distance) bestPairOf.set(c, p);
  }
  return components.map((component, c) => {
    const best = bestPairOf.get(c);
    return {
      members: component.flatMap((u) => membersOfUnique.get(unique[u]!)!).sort((x, y) => x - y),
      hasNear: component.length > 1,
      example: best ? { a: items[unique[best.a]!]!.source, b: items[unique[best.b]!]!.source, distance: best.distance } : null,
    };
  });
}

const INVALID_LABELS = 'labels missing or invalid in the file name';

/** What a policy decides for one multi-file cluster: a decision per member (in `members` order) and the cluster's outcome. */
interface ClusterOutcome {
  decisions: DedupDecision[];
  outcome: ClusterReport['outcome'];
  reason: string;
}

/** `drop-all`: exact copies collapse to their first occurrence; any image with a near twin is dropped. */
function dropAll(items: readonly DedupItem[], rep: Int32Array, cluster: Cluster, id: number, threshold: number): ClusterOutcome {
  const { members, hasNear } = cluster;
  const decisions = members.map((i): DedupDecision => {
    if (rep[i] !== i) return { status: 'duplicate-exact', reason: 'byte-identical copy', cluster: id, duplicateOf: items[rep[i]!]!.source };
    if (hasNear) return { status: 'flagged-near', reason: `has a near twin (pHash distance ≤ ${threshold}); drop-all drops every flagged image`, cluster: id, duplicateOf: null };
    if (!items[i]!.labels) return { status: 'invalid-label', reason: INVALID_LABELS, cluster: id, duplicateOf: null };
    return { status: 'kept', reason: '', cluster: id, duplicateOf: null };
  });
  return hasNear
    ? { decisions, outcome: 'dropped-all', reason: `near-duplicate cluster of ${members.length} files; drop-all policy` }
    : { decisions, outcome: 'kept-one', reason: `${members.length} byte-identical copies; first kept` };
}

/** `keep-one`: a cluster whose labelled members agree keeps its first labelled member; conflicting labels drop it whole. */
function keepOne(items: readonly DedupItem[], cluster: Cluster, id: number): ClusterOutcome {
  const { members } = cluster;
  const labelled = members.filter((i) => items[i]!.labels !== null);
  if (labelled.length === 0) {
    return { decisions: members.map(() => ({ status: 'invalid-label', reason: INVALID_LABELS, cluster: id, duplicateOf: null })), outcome: 'invalid-labels', reason: 'no member has valid labels' };
  }
  const first = items[labelled[0]!]!.labels!;
  if (!labelled.every((i) => sameLabels(items[i]!.labels!, first))) {
    const tally = new Map<string, number>();
    for (const i of labelled) {
      const key = formatLabels(items[i]!.labels!);
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    const summary = [...tally.entries()].map(([k, n]) => `${k} ×${n}`).join(', ');
    const reason = `cluster of ${members.length} near-identical files carries conflicting labels (${summary})`;
    return { decisions: members.map(() => ({ status: 'conflict', reason, cluster: id, duplicateOf: null })), outcome: 'dropped-conflict', reason };
  }
  const keep = labelled[0]!;
  const kept = items[keep]!;
  const decisions = members.map((i): DedupDecision => {
    if (i === keep) return { status: 'kept', reason: '', cluster: id, duplicateOf: null };
    if (!items[i]!.labels) return { status: 'invalid-label', reason: INVALID_LABELS, cluster: id, duplicateOf: kept.source };
    if (items[i]!.sha256 === kept.sha256) return { status: 'duplicate-exact', reason: 'byte-identical copy of the kept file', cluster: id, duplicateOf: kept.source };
    return { status: 'duplicate-near', reason: 'near-identical to the kept file, same labels', cluster: id, duplicateOf: kept.source };
  });
  return { decisions, outcome: 'kept-one', reason: `${members.length} copies with the same labels (${formatLabels(first)}); one kept` };
}

/**
 * Collapses exact duplicates (same SHA-256, first occurrence kept), finds near pairs among the
 * exact-unique images, and applies a policy:
 * - `drop-all` (the reference notebook's): every image with a near twin is dropped;
 * - `keep-one`: a cluster (connected component of exact + near links) whose labelled members all
 *   agree keeps one representative; a cluster with conflicting labels is dropped whole.
 */
export function deduplicate(items: readonly DedupItem[], threshold: number, policy: DedupPolicy): DedupResult {
  const groups = exactGroups(items);
  const { pairs, flagged } = nearPairsOf(items, groups.unique, threshold);
  const decisions: DedupDecision[] = items.map(() => ({ status: 'kept', reason: '', cluster: null, duplicateOf: null }));
  const clusters: ClusterReport[] = [];
  for (const cluster of clustersOf(items, groups, pairs)) {
    const { members } = cluster;
    if (members.length === 1) {
      const i = members[0]!;
      if (!items[i]!.labels) decisions[i] = { status: 'invalid-label', reason: INVALID_LABELS, cluster: null, duplicateOf: null };
      continue;
    }
    const id = clusters.length;
    const decided = policy === 'drop-all' ? dropAll(items, groups.rep, cluster, id, threshold) : keepOne(items, cluster, id);
    members.forEach((i, k) => (decisions[i] = decided.decisions[k]!));
    clusters.push({ id, members: members.map((i) => items[i]!.source), example: cluster.example, outcome: decided.outcome, reason: decided.reason });
  }
  return { decisions, exactUnique: groups.unique.length, nearPairs: pairs.length, flagged, clusters };
}
