/** A tiny string XML builder: elements, escaped text, indentation; enough for pain.001 and nothing more. */

const SPECIAL = /[&<>"']/;
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes the five XML special characters (XML 1.0 §2.4) so text can never open markup. */
export function escapeXml(text: string): string {
  if (!SPECIAL.test(text)) return text;
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** An XML node to print: an element with attributes and children, escaped text content, or an already printed fragment. */
export type XmlNode =
  | {
      readonly name: string;
      readonly attributes?: Readonly<Record<string, string>>;
      readonly children: readonly XmlNode[];
    }
  | { readonly text: string; readonly name?: undefined; readonly raw?: false }
  | { readonly text: string; readonly name?: undefined; readonly raw: true };

/** An element with child elements; undefined children are skipped, so optional parts read inline. */
export function element(
  name: string,
  children: readonly (XmlNode | undefined)[],
  attributes?: Record<string, string>,
): XmlNode {
  const kept = children.filter((c): c is XmlNode => c !== undefined);
  return attributes === undefined ? { name, children: kept } : { name, attributes, children: kept };
}

/** An element holding only text. */
export function textElement(name: string, text: string, attributes?: Record<string, string>): XmlNode {
  return attributes === undefined
    ? { name, children: [{ text }] }
    : { name, attributes, children: [{ text }] };
}

const INDENTS = Array.from({ length: 16 }, (_, i) => '  '.repeat(i));

function printNode(node: XmlNode, depth: number, out: string[]): void {
  if (node.name === undefined) {
    out.push(node.raw === true ? node.text : escapeXml(node.text));
    return;
  }
  const indent = INDENTS[depth] ?? '  '.repeat(depth);
  let open = `<${node.name}`;
  if (node.attributes !== undefined)
    for (const key in node.attributes) open += ` ${key}="${escapeXml(node.attributes[key] ?? '')}"`;
  const children = node.children;
  if (children.length === 0) {
    out.push(`${indent}${open}/>\n`);
    return;
  }
  const only = children[0];
  if (children.length === 1 && only !== undefined && only.name === undefined && only.raw !== true) {
    out.push(`${indent}${open}>${escapeXml(only.text)}</${node.name}>\n`);
    return;
  }
  out.push(`${indent}${open}>\n`);
  for (const child of children) printNode(child, depth + 1, out);
  out.push(`${indent}</${node.name}>\n`);
}

/**
 * Prints an element at `depth` now and returns it as a pre-printed node to place in a parent;
 * large files print each repeated block as it is made, so the trees die young and cost the GC little.
 */
export function printXmlFragment(node: XmlNode, depth: number): XmlNode {
  const out: string[] = [];
  printNode(node, depth, out);
  return { text: out.join(''), raw: true };
}

/** Prints a document: the UTF-8 declaration and the root element, indented by two spaces. */
export function printXmlDocument(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  printNode(root, 0, out);
  return out.join('');
}
