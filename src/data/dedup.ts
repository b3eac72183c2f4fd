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

/**
 * Collapses exact duplicates (same SHA-256, first occurrence kept), finds near pairs among the
 * exact-unique images, and applies a policy:
 * - `drop-all` (the reference notebook's): every image with a near twin is dropped;
 * - `keep-one`: a cluster (connected component of exact + near links) whose labelled members all
 *   agree keeps one representative; a cluster with conflicting labels is dropped whole.
 */
export function deduplicate(items: readonly DedupItem[], threshold: number, policy: DedupPolicy): DedupResult {
  // 1. exact groups: representative = first occurrence
  const firstBySha = new Map<string, number>();
  const exactRep = new Int32Array(items.length);
  const uniqueIndices: number[] = [];
  items.forEach((item, i) => {
    const first = firstBySha.get(item.sha256);
    if (first === undefined) {
      firstBySha.set(item.sha256, i);
      exactRep[i] = i;
      uniqueIndices.push(i);
    } else {
      exactRep[i] = first;
    }
  });

  // 2. near pairs among exact-unique images
  const table = hashTableFromHex(uniqueIndices.map((i) => items[i]!.phash));
  const pairs: NearPair[] = findNearPairs(table, threshold);
  const flaggedUnique = new Uint8Array(uniqueIndices.length);
  for (const p of pairs) flaggedUnique[p.a] = flaggedUnique[p.b] = 1;
  const flagged = flaggedUnique.reduce((sum, f) => sum + f, 0);

  // 3. clusters over unique images; exact copies join their representative's cluster
  const components = connectedComponents(uniqueIndices.length, pairs);
  const membersOfUnique = new Map<number, number[]>();
  items.forEach((_, i) => {
    const rep = exactRep[i]!;
    const list = membersOfUnique.get(rep);
    if (list) list.push(i);
    else membersOfUnique.set(rep, [i]);
  });
  const bestPairOf = new Map<number, NearPair>();

  const decisions: DedupDecision[] = items.map(() => ({ status: 'kept', reason: '', cluster: null, duplicateOf: null }));
  const clusters: ClusterReport[] = [];
  const componentOfUnique = new Int32Array(uniqueIndices.length);
  components.forEach((component, c) => component.forEach((u) => (componentOfUnique[u] = c)));
  for (const p of pairs) {
    const c = componentOfUnique[p.a]!;
    const best = bestPairOf.get(c);
    if (!best || p.distance < best.distance) bestPairOf.set(c, p);
  }

  for (const [c, component] of components.entries()) {
    const members = component.flatMap((u) => membersOfUnique.get(uniqueIndices[u]!)!).sort((x, y) => x - y);
    const labelled = members.filter((i) => items[i]!.labels !== null);
    if (members.length === 1) {
      const i = members[0]!;
      if (!items[i]!.labels) decisions[i] = { status: 'invalid-label', reason: 'labels missing or invalid in the file name', cluster: null, duplicateOf: null };
      continue;
    }
    const id = clusters.length;
    const best = bestPairOf.get(c);
    const example = best ? { a: items[uniqueIndices[best.a]!]!.source, b: items[uniqueIndices[best.b]!]!.source, distance: best.distance } : null;
    const hasNear = component.length > 1;

    if (policy === 'drop-all') {
      // Exact copies collapse to their first occurrence; any image with a near twin is dropped.
      for (const i of members) {
        const rep = exactRep[i]!;
        if (rep !== i) {
          decisions[i] = { status: 'duplicate-exact', reason: 'byte-identical copy', cluster: id, duplicateOf: items[rep]!.source };
        } else if (hasNear) {
          decisions[i] = { status: 'flagged-near', reason: `has a near twin (pHash distance ≤ ${threshold}); drop-all drops every flagged image`, cluster: id, duplicateOf: null };
        } else if (!items[i]!.labels) {
          decisions[i] = { status: 'invalid-label', reason: 'labels missing or invalid in the file name', cluster: id, duplicateOf: null };
        } else {
          decisions[i] = { status: 'kept', reason: '', cluster: id, duplicateOf: null };
        }
      }
      clusters.push({
        id,
        members: members.map((i) => items[i]!.source),
        example,
        outcome: hasNear ? 'dropped-all' : 'kept-one',
        reason: hasNear ? `near-duplicate cluster of ${members.length} files; drop-all policy` : `${members.length} byte-identical copies; first kept`,
      });
      continue;
    }

    // keep-one
    const tally = new Map<string, number>();
    for (const i of labelled) {
      const key = formatLabels(items[i]!.labels!);
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    if (labelled.length === 0) {
      for (const i of members) decisions[i] = { status: 'invalid-label', reason: 'labels missing or invalid in the file name', cluster: id, duplicateOf: null };
      clusters.push({ id, members: members.map((i) => items[i]!.source), example, outcome: 'invalid-labels', reason: 'no member has valid labels' });
      continue;
    }
    const first = items[labelled[0]!]!.labels!;
    const agree = labelled.every((i) => sameLabels(items[i]!.labels!, first));
    if (!agree) {
      const summary = [...tally.entries()].map(([k, n]) => `${k} ×${n}`).join(', ');
      const reason = `cluster of ${members.length} near-identical files carries conflicting labels (${summary})`;
      for (const i of members) decisions[i] = { status: 'conflict', reason, cluster: id, duplicateOf: null };
      clusters.push({ id, members: members.map((i) => items[i]!.source), example, outcome: 'dropped-conflict', reason });
      continue;
    }
    const keep = labelled[0]!;
    for (const i of members) {
      if (i === keep) {
        decisions[i] = { status: 'kept', reason: '', cluster: id, duplicateOf: null };
      } else if (!items[i]!.labels) {
        decisions[i] = { status: 'invalid-label', reason: 'labels missing or invalid in the file name', cluster: id, duplicateOf: items[keep]!.source };
      } else if (items[i]!.sha256 === items[keep]!.sha256) {
        decisions[i] = { status: 'duplicate-exact', reason: 'byte-identical copy of the kept file', cluster: id, duplicateOf: items[keep]!.source };
      } else {
        decisions[i] = { status: 'duplicate-near', reason: 'near-identical to the kept file, same labels', cluster: id, duplicateOf: items[keep]!.source };
      }
    }
    clusters.push({
      id,
      members: members.map((i) => items[i]!.source),
      example,
      outcome: 'kept-one',
      reason: `${members.length} copies with the same labels (${formatLabels(first)}); one kept`,
    });
  }

  return { decisions, exactUnique: uniqueIndices.length, nearPairs: pairs.length, flagged, clusters };
}
