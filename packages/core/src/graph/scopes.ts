import type { GraphProto, NodeProto } from 'onnx-buf';
import { subgraphsOf } from '../onnx/graph-edit.js';
import type { GraphView, NodeView } from './graph-view.js';

/*
 * Subgraph bodies (If branches, Loop and Scan bodies) as scopes: where a quantizer inside a body
 * finds its tensor, its producer and the graph its nodes go into. A scope is the body's
 * {@link GraphView.path} (`<owner>/<attribute>`, nested bodies prefixed by their owners).
 */

/** One body: its view, the node that owns it and the view that holds that node. */
export interface Body {
  /** The body's path, which is also a quantizer's `scope`. */
  readonly path: string;
  readonly view: GraphView;
  readonly owner: NodeView;
  /** `then_branch`, `else_branch`, `body`, or `<name>[k]` for a list of graphs. */
  readonly attribute: string;
  /** The view that holds the owner: the main graph or an enclosing body. */
  readonly parent: GraphView;
}

const cache = new WeakMap<GraphView, ReadonlyMap<string, Body>>();

/** Every body under `graph`, nested ones included, by path (outer bodies first). */
export function bodiesOf(graph: GraphView): ReadonlyMap<string, Body> {
  const hit = cache.get(graph);
  if (hit) return hit;
  const bodies = new Map<string, Body>();
  const walk = (view: GraphView) => {
    for (const owner of view.nodes)
      for (const sub of owner.subgraphs) {
        // Node views hold their bodies as readers; GraphView makes every one a GraphView.
        const body = sub.graph as GraphView;
        bodies.set(body.path, { path: body.path, view: body, owner, attribute: sub.attribute, parent: view });
        walk(body);
      }
  };
  walk(graph);
  cache.set(graph, bodies);
  return bodies;
}

/** The view of a scope: the main graph for `undefined`, else the body at that path. */
export function viewOfScope(graph: GraphView, scope: string | undefined): GraphView | undefined {
  return scope === undefined ? graph : bodiesOf(graph).get(scope)?.view;
}

/**
 * Whether a body and every body around it are If branches: quantsim quantizes inside those. A
 * Loop or Scan body runs many times per inference, and its tensors cannot leave it as one value.
 */
export function insideIfOnly(graph: GraphView, scope: string): boolean {
  const bodies = bodiesOf(graph);
  for (let body = bodies.get(scope); body; body = bodies.get(body.parent.path)) {
    if (body.owner.opType !== 'If' || body.owner.domain !== '') return false;
    if (body.parent.path === '') return true;
  }
  return false;
}

/** The graph behind a body attribute label of a node (`then_branch`, `body`, `branches[1]`). */
export function bodyProto(node: NodeProto, attribute: string): GraphProto | undefined {
  const m = /^(.*)\[(\d+)\]$/.exec(attribute);
  const name = m ? (m[1] as string) : attribute;
  const attr = node.attribute.find((a) => a.name === name);
  if (!attr) return undefined;
  return subgraphsOf(attr)[m ? Number(m[2]) : 0];
}

/**
 * Pairs each node of `original` with its twin in `copy`, a deep copy of the same graph (for
 * example a cloned model), in every subgraph: edits to a copy find their nodes through it.
 */
export function twinNodes(
  original: GraphProto,
  copy: GraphProto,
  into: Map<NodeProto, NodeProto> = new Map(),
): Map<NodeProto, NodeProto> {
  original.node.forEach((n, i) => {
    const twin = copy.node[i];
    if (!twin) return;
    into.set(n, twin);
    n.attribute.forEach((a, k) => {
      const mine = subgraphsOf(a);
      const theirs = twin.attribute[k] ? subgraphsOf(twin.attribute[k]) : [];
      mine.forEach((g, j) => {
        const t = theirs[j];
        if (t) twinNodes(g, t, into);
      });
    });
  });
  return into;
}

/**
 * The graph of `scope` in a copy of the model: the main graph for `undefined`, else the body
 * proto of the owner's twin (see {@link twinNodes}).
 */
export function scopeProto(
  graph: GraphView,
  main: GraphProto,
  twins: ReadonlyMap<NodeProto, NodeProto>,
  scope: string | undefined,
): GraphProto | undefined {
  if (scope === undefined) return main;
  const body = bodiesOf(graph).get(scope);
  const owner = body ? twins.get(body.owner.proto) : undefined;
  return owner && body ? bodyProto(owner, body.attribute) : undefined;
}

/** Names read by nodes inside the bodies of `view`'s nodes (outer-scope reads included). */
export function readByBodies(view: GraphView): ReadonlySet<string> {
  const names = new Set<string>();
  const visit = (v: GraphView) => {
    for (const n of v.nodes) {
      for (const i of n.inputs) if (i !== '') names.add(i);
      for (const s of n.subgraphs) visit(s.graph as GraphView);
    }
    for (const o of v.outputs) names.add(o);
  };
  for (const n of view.nodes) for (const s of n.subgraphs) visit(s.graph as GraphView);
  return names;
}

/** The layers quantizers can sit on: the main graph's, then those of If branches (outer first). */
export function layersWithBranches(graph: GraphView): readonly GraphView['layers'][number][] {
  const bodies = [...bodiesOf(graph).values()].filter((b) => insideIfOnly(graph, b.path));
  return bodies.length === 0 ? graph.layers : [...graph.layers, ...bodies.flatMap((b) => b.view.layers)];
}

/** Tensor names of the main graph, then those of If branches. */
export function tensorNamesWithBranches(graph: GraphView): string[] {
  const names = new Set(graph.tensors.keys());
  for (const b of bodiesOf(graph).values()) if (insideIfOnly(graph, b.path)) for (const n of b.view.tensors.keys()) names.add(n);
  return [...names];
}

/** The graph of `scope` in the model `graph` views: its main graph's proto is not needed, only the owner's. */
export function ownGraphProto(graph: GraphView, scope: string): GraphProto | undefined {
  const body = bodiesOf(graph).get(scope);
  return body ? bodyProto(body.owner.proto, body.attribute) : undefined;
}

/** The node of this stable name in the main graph or in any If branch. */
export function nodeWithBranches(graph: GraphView, name: string): NodeView | undefined {
  const own = graph.node(name);
  if (own) return own;
  for (const b of bodiesOf(graph).values()) {
    const n = b.view.node(name);
    if (n) return n;
  }
  return undefined;
}

/** The tensor of this name as the graph that produces it sees it: the main graph or an If branch. */
export function tensorWithBranches(graph: GraphView, name: string): ReturnType<GraphView['tensor']> {
  const own = graph.tensor(name);
  if (own && (own.producer || own.role !== 'activation')) return own;
  for (const b of bodiesOf(graph).values()) {
    const t = b.view.tensor(name);
    if (t?.producer) return t;
  }
  return own;
}
