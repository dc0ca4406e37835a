/** A tiny string XML builder: elements, escaped text, indentation; enough for pain.001 and nothing more. */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes the five XML special characters (XML 1.0 §2.4) so text can never open markup. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** An XML node to print: an element with attributes and children, or escaped text content. */
export type XmlNode = { readonly name: string; readonly attributes?: Readonly<Record<string, string>>; readonly children: readonly XmlNode[] } | { readonly text: string; readonly name?: undefined };

/** An element with child elements; undefined children are skipped, so optional parts read inline. */
export function element(name: string, children: readonly (XmlNode | undefined)[], attributes?: Record<string, string>): XmlNode {
  const kept = children.filter((c): c is XmlNode => c !== undefined);
  return attributes === undefined ? { name, children: kept } : { name, attributes, children: kept };
}

/** An element holding only text. */
export function textElement(name: string, text: string, attributes?: Record<string, string>): XmlNode {
  return attributes === undefined ? { name, children: [{ text }] } : { name, attributes, children: [{ text }] };
}

function printNode(node: XmlNode, depth: number, out: string[]): void {
  if (node.name === undefined) {
    out.push(escapeXml(node.text));
    return;
  }
  const indent = '  '.repeat(depth);
  let open = `<${node.name}`;
  for (const [key, value] of Object.entries(node.attributes ?? {})) open += ` ${key}="${escapeXml(value)}"`;
  const children = node.children;
  if (children.length === 0) {
    out.push(`${indent}${open}/>\n`);
    return;
  }
  const only = children[0];
  if (children.length === 1 && only !== undefined && only.name === undefined) {
    out.push(`${indent}${open}>${escapeXml(only.text)}</${node.name}>\n`);
    return;
  }
  out.push(`${indent}${open}>\n`);
  for (const child of children) printNode(child, depth + 1, out);
  out.push(`${indent}</${node.name}>\n`);
}

/** Prints a document: the UTF-8 declaration and the root element, indented by two spaces. */
export function printXmlDocument(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  printNode(root, 0, out);
  return out.join('');
}
