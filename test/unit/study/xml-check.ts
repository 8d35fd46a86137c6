// A strict well-formedness check of the report's SVG (XML 1.0 subset it
// uses: elements, attributes in double quotes, the five predefined entities
// and numeric references, an optional comment-free prolog). Returns the
// elements, in document order, with their attributes, for the tests to read.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  /** the text directly inside, entities decoded */
  text: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)/;

function decode(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);
}

export function parseXml(doc: string): XmlElement[] {
  const out: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let roots = 0;
  let i = 0;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const text = doc.slice(i, lt === -1 ? doc.length : lt);
    if (text.includes('>') || ENTITY.test(text)) throw new Error(`bad text at ${i}: ${JSON.stringify(text.slice(0, 40))}`);
    if (text.trim() && stack.length === 0) throw new Error(`text outside the root at ${i}`);
    if (stack.length) stack[stack.length - 1]!.text += decode(text);
    if (lt === -1) break;
    const gt = doc.indexOf('>', lt);
    if (gt === -1) throw new Error(`unclosed tag at ${lt}`);
    const tag = doc.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('?')) continue; // prolog
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([^\s]+)([\s\S]*)$/.exec(body);
    if (!m || !NAME.test(m[1]!)) throw new Error(`bad element name in <${tag.slice(0, 40)}>`);
    const attrs: Record<string, string> = {};
    let rest = m[2]!;
    const attr = /^\s+([A-Za-z_][A-Za-z0-9_.:-]*)="([^"<]*)"/;
    while (rest.trim()) {
      const a = attr.exec(rest);
      if (!a) throw new Error(`bad attribute in <${m[1]}>: ${JSON.stringify(rest.slice(0, 40))}`);
      if (a[1]! in attrs) throw new Error(`repeated attribute ${a[1]} in <${m[1]}>`);
      if (ENTITY.test(a[2]!)) throw new Error(`unescaped & in ${a[1]} of <${m[1]}>`);
      attrs[a[1]!] = decode(a[2]!);
      rest = rest.slice(a[0].length);
    }
    const el: XmlElement = { name: m[1]!, attrs, text: '' };
    if (stack.length === 0 && ++roots > 1) throw new Error('more than one root element');
    out.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (roots !== 1) throw new Error('no root element');
  return out;
}
