// Where a JSON pointer ("/pretrain/lr") sits in a config's text, so an
// engine issue can be shown on the right characters. A field that is not
// written (its default applies) is shown on the nearest written ancestor's
// key. Pure (jsonc-parser), so it is unit-tested without VS Code.
import { findNodeAtLocation, parseTree, type Node, type Segment } from 'jsonc-parser';

export interface TextSpan {
  /** character offset of the start */
  offset: number;
  length: number;
  /** true when the pointer itself was found (false: an ancestor stands in for it) */
  exact: boolean;
}

export function pointerSegments(pointer: string): Segment[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

/** The key of a property node's value, else the node itself. */
function keyOrSelf(node: Node): Node {
  const parent = node.parent;
  if (parent?.type === 'property' && parent.children?.[1] === node && parent.children[0]) return parent.children[0];
  return node;
}

export function locatePointer(text: string, pointer: string): TextSpan {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  if (!root) return { offset: 0, length: Math.min(1, text.length), exact: false };
  const segs = pointerSegments(pointer);
  for (let n = segs.length; n >= 0; n--) {
    const node = findNodeAtLocation(root, segs.slice(0, n));
    if (!node) continue;
    if (n === segs.length) {
      // a scalar: the value; an object or array: its key (a whole section would be noisy)
      const target = node.type === 'object' || node.type === 'array' ? keyOrSelf(node) : node;
      if (target === root) return { offset: root.offset, length: 1, exact: true };
      return { offset: target.offset, length: target.length, exact: true };
    }
    const target = keyOrSelf(node);
    if (target === root) return { offset: root.offset, length: 1, exact: false };
    return { offset: target.offset, length: target.length, exact: false };
  }
  return { offset: root.offset, length: 1, exact: false };
}
